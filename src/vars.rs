//! Every environment variable this crate reads or sets, named once.
//!
//! The settings tables ([`crate::aws::settings`], [`crate::gcp::settings`],
//! [`crate::azure::settings`]), the rest of the code and the tests use these constants; a name
//! written as a string anywhere else is a mistake waiting to happen.

// --- the Vercel token, and this tool's own switches ---

/// The Vercel OIDC token itself (set by Vercel in builds, by `vercel env pull` in `.env.local`).
pub const VERCEL_OIDC_TOKEN: &str = "VERCEL_OIDC_TOKEN";
/// A file holding the token; wins over `VERCEL_OIDC_TOKEN`.
pub const VERCEL_OIDC_TOKEN_FILE: &str = "VERCEL_OIDC_TOKEN_FILE";
/// Set to `1` inside a Vercel build.
pub const VERCEL: &str = "VERCEL";
/// Set by most CI systems.
pub const CI: &str = "CI";
pub const VERCEL_OIDC_PROJECT_DIR: &str = "VERCEL_OIDC_PROJECT_DIR";
pub const VERCEL_OIDC_CONFIG: &str = "VERCEL_OIDC_CONFIG";
pub const VERCEL_OIDC_NO_REFRESH: &str = "VERCEL_OIDC_NO_REFRESH";
pub const VERCEL_OIDC_NO_CACHE: &str = "VERCEL_OIDC_NO_CACHE";
pub const VERCEL_OIDC_CACHE_DIR: &str = "VERCEL_OIDC_CACHE_DIR";
/// Folders whose files are trusted whoever owns them (`:`-separated, or `*`), as git's
/// `safe.directory`: see [`crate::ownership`].
pub const VERCEL_OIDC_SAFE_DIRS: &str = "VERCEL_OIDC_SAFE_DIRS";
pub const VERCEL_OIDC_VERBOSE: &str = "VERCEL_OIDC_VERBOSE";
pub const VERCEL_OIDC_FORMAT: &str = "VERCEL_OIDC_FORMAT";
/// Set to `1` in the environment of the command `exec` runs.
pub const VERCEL_OIDC_EXEC: &str = "VERCEL_OIDC_EXEC";
pub const VERCEL_OIDC_EXEC_FORCE: &str = "VERCEL_OIDC_EXEC_FORCE";
/// How often `exec` checks the token's expiry, in seconds (for tests).
pub const VERCEL_OIDC_EXEC_CHECK_SECONDS: &str = "VERCEL_OIDC_EXEC_CHECK_SECONDS";
/// The Vercel API and OAuth issuer of a local refresh (for tests).
pub const VERCEL_OIDC_API_URL: &str = "VERCEL_OIDC_API_URL";
pub const VERCEL_OIDC_OAUTH_ISSUER: &str = "VERCEL_OIDC_OAUTH_ISSUER";

// --- AWS: this tool's settings ---

pub const AWS_ROLE_ARN: &str = "AWS_ROLE_ARN";
pub const AWS_ROLE_SESSION_NAME: &str = "AWS_ROLE_SESSION_NAME";
pub const VERCEL_OIDC_AWS_DURATION_SECONDS: &str = "VERCEL_OIDC_AWS_DURATION_SECONDS";
pub const VERCEL_OIDC_AWS_REGION: &str = "VERCEL_OIDC_AWS_REGION";
pub const VERCEL_OIDC_AWS_POLICY_ARNS: &str = "VERCEL_OIDC_AWS_POLICY_ARNS";
pub const VERCEL_OIDC_AWS_POLICY: &str = "VERCEL_OIDC_AWS_POLICY";
pub const VERCEL_OIDC_AWS_CREDENTIALS: &str = "VERCEL_OIDC_AWS_CREDENTIALS";
pub const VERCEL_OIDC_AWS_PROFILE: &str = "VERCEL_OIDC_AWS_PROFILE";

// --- AWS: the SDKs' own ---

pub const AWS_REGION: &str = "AWS_REGION";
pub const AWS_DEFAULT_REGION: &str = "AWS_DEFAULT_REGION";
pub const AWS_ENDPOINT_URL_STS: &str = "AWS_ENDPOINT_URL_STS";
pub const AWS_ENDPOINT_URL: &str = "AWS_ENDPOINT_URL";
pub const AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: &str = "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS";
pub const AWS_USE_FIPS_ENDPOINT: &str = "AWS_USE_FIPS_ENDPOINT";
pub const AWS_CONFIG_FILE: &str = "AWS_CONFIG_FILE";
pub const AWS_SHARED_CREDENTIALS_FILE: &str = "AWS_SHARED_CREDENTIALS_FILE";
pub const AWS_ACCESS_KEY_ID: &str = "AWS_ACCESS_KEY_ID";
pub const AWS_SECRET_ACCESS_KEY: &str = "AWS_SECRET_ACCESS_KEY";
pub const AWS_SESSION_TOKEN: &str = "AWS_SESSION_TOKEN";
pub const AWS_CREDENTIAL_EXPIRATION: &str = "AWS_CREDENTIAL_EXPIRATION";
pub const AWS_SECURITY_TOKEN: &str = "AWS_SECURITY_TOKEN";
pub const AWS_PROFILE: &str = "AWS_PROFILE";
pub const AWS_DEFAULT_PROFILE: &str = "AWS_DEFAULT_PROFILE";
pub const AWS_WEB_IDENTITY_TOKEN_FILE: &str = "AWS_WEB_IDENTITY_TOKEN_FILE";
pub const AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: &str = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI";
pub const AWS_CONTAINER_CREDENTIALS_FULL_URI: &str = "AWS_CONTAINER_CREDENTIALS_FULL_URI";
pub const AWS_CONTAINER_AUTHORIZATION_TOKEN: &str = "AWS_CONTAINER_AUTHORIZATION_TOKEN";
pub const AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: &str = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE";

// --- GCP: this tool's settings (the `GCP_*` names are those of Vercel's GCP guide) ---

pub const VERCEL_OIDC_GCP_AUDIENCE: &str = "VERCEL_OIDC_GCP_AUDIENCE";
pub const GCP_PROJECT_NUMBER: &str = "GCP_PROJECT_NUMBER";
pub const GCP_WORKLOAD_IDENTITY_POOL_ID: &str = "GCP_WORKLOAD_IDENTITY_POOL_ID";
pub const GCP_WORKLOAD_IDENTITY_POOL_PROVIDER_ID: &str = "GCP_WORKLOAD_IDENTITY_POOL_PROVIDER_ID";
pub const GCP_SERVICE_ACCOUNT_EMAIL: &str = "GCP_SERVICE_ACCOUNT_EMAIL";
pub const GCP_PROJECT_ID: &str = "GCP_PROJECT_ID";
pub const VERCEL_OIDC_GCP_TOKEN_LIFETIME_SECONDS: &str = "VERCEL_OIDC_GCP_TOKEN_LIFETIME_SECONDS";
pub const VERCEL_OIDC_GCP_TOKEN_URL: &str = "VERCEL_OIDC_GCP_TOKEN_URL";
pub const VERCEL_OIDC_GCP_IMPERSONATION_URL: &str = "VERCEL_OIDC_GCP_IMPERSONATION_URL";
pub const VERCEL_OIDC_GCP_SCOPES: &str = "VERCEL_OIDC_GCP_SCOPES";
pub const VERCEL_OIDC_GCP_SOURCE: &str = "VERCEL_OIDC_GCP_SOURCE";
pub const VERCEL_OIDC_GCP_CREDENTIALS_FILE: &str = "VERCEL_OIDC_GCP_CREDENTIALS_FILE";

// --- GCP: google-auth's and gcloud's own ---

pub const GOOGLE_APPLICATION_CREDENTIALS: &str = "GOOGLE_APPLICATION_CREDENTIALS";
pub const GOOGLE_CLOUD_PROJECT: &str = "GOOGLE_CLOUD_PROJECT";
pub const CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE: &str = "CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE";
pub const CLOUDSDK_CORE_PROJECT: &str = "CLOUDSDK_CORE_PROJECT";
pub const GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES: &str =
    "GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES";
pub const GOOGLE_EXTERNAL_ACCOUNT_TOKEN_TYPE: &str = "GOOGLE_EXTERNAL_ACCOUNT_TOKEN_TYPE";
pub const GOOGLE_EXTERNAL_ACCOUNT_OUTPUT_FILE: &str = "GOOGLE_EXTERNAL_ACCOUNT_OUTPUT_FILE";
pub const GOOGLE_EXTERNAL_ACCOUNT_REVOKE: &str = "GOOGLE_EXTERNAL_ACCOUNT_REVOKE";
/// Set by google-auth for the executable it runs (named in its docs, not read here).
pub const GOOGLE_EXTERNAL_ACCOUNT_AUDIENCE: &str = "GOOGLE_EXTERNAL_ACCOUNT_AUDIENCE";

// --- Azure: the SDKs' names, which this tool reads and sets ---

pub const AZURE_TENANT_ID: &str = "AZURE_TENANT_ID";
pub const AZURE_CLIENT_ID: &str = "AZURE_CLIENT_ID";
pub const AZURE_AUTHORITY_HOST: &str = "AZURE_AUTHORITY_HOST";
pub const AZURE_FEDERATED_TOKEN_FILE: &str = "AZURE_FEDERATED_TOKEN_FILE";
pub const VERCEL_OIDC_AZURE_TOKEN_FILE: &str = "VERCEL_OIDC_AZURE_TOKEN_FILE";
pub const VERCEL_OIDC_AZURE_SCOPE: &str = "VERCEL_OIDC_AZURE_SCOPE";
/// The subscription: read as a setting, and set for the tools that take it from here.
pub const AZURE_SUBSCRIPTION_ID: &str = "AZURE_SUBSCRIPTION_ID";
/// Whether `exec` logs the Azure CLI in: `auto` or `off`.
pub const VERCEL_OIDC_AZURE_CLI_LOGIN: &str = "VERCEL_OIDC_AZURE_CLI_LOGIN";
/// Where the Azure CLI keeps its state (default `~/.azure`); `exec` gives it a private one.
pub const AZURE_CONFIG_DIR: &str = "AZURE_CONFIG_DIR";
/// Credentials that win over workload identity in `DefaultAzureCredential`: `exec` removes them.
pub const AZURE_CLIENT_SECRET: &str = "AZURE_CLIENT_SECRET";
pub const AZURE_CLIENT_CERTIFICATE_PATH: &str = "AZURE_CLIENT_CERTIFICATE_PATH";
pub const AZURE_CLIENT_CERTIFICATE_PASSWORD: &str = "AZURE_CLIENT_CERTIFICATE_PASSWORD";
pub const AZURE_USERNAME: &str = "AZURE_USERNAME";
pub const AZURE_PASSWORD: &str = "AZURE_PASSWORD";

// --- Azure: Terraform's and OpenTofu's azurerm and azuread providers (and azurerm's backend) ---

pub const ARM_USE_OIDC: &str = "ARM_USE_OIDC";
pub const ARM_CLIENT_ID: &str = "ARM_CLIENT_ID";
pub const ARM_TENANT_ID: &str = "ARM_TENANT_ID";
pub const ARM_OIDC_TOKEN_FILE_PATH: &str = "ARM_OIDC_TOKEN_FILE_PATH";
pub const ARM_SUBSCRIPTION_ID: &str = "ARM_SUBSCRIPTION_ID";
pub const ARM_ENVIRONMENT: &str = "ARM_ENVIRONMENT";
/// Credentials the providers use before OIDC, or instead of the token file: `exec` removes them.
pub const ARM_CLIENT_SECRET: &str = "ARM_CLIENT_SECRET";
pub const ARM_CLIENT_SECRET_FILE_PATH: &str = "ARM_CLIENT_SECRET_FILE_PATH";
pub const ARM_CLIENT_CERTIFICATE: &str = "ARM_CLIENT_CERTIFICATE";
pub const ARM_CLIENT_CERTIFICATE_PATH: &str = "ARM_CLIENT_CERTIFICATE_PATH";
pub const ARM_CLIENT_CERTIFICATE_PASSWORD: &str = "ARM_CLIENT_CERTIFICATE_PASSWORD";
pub const ARM_CLIENT_ID_FILE_PATH: &str = "ARM_CLIENT_ID_FILE_PATH";
pub const ARM_OIDC_TOKEN: &str = "ARM_OIDC_TOKEN";

// --- verify ---

pub const VERCEL_OIDC_VERIFY_ISSUER: &str = "VERCEL_OIDC_VERIFY_ISSUER";
pub const VERCEL_OIDC_VERIFY_AUDIENCE: &str = "VERCEL_OIDC_VERIFY_AUDIENCE";
pub const VERCEL_OIDC_VERIFY_LEEWAY: &str = "VERCEL_OIDC_VERIFY_LEEWAY";
pub const VERCEL_OIDC_VERIFY_PROJECT_ID: &str = "VERCEL_OIDC_VERIFY_PROJECT_ID";
pub const VERCEL_OIDC_VERIFY_PROJECT: &str = "VERCEL_OIDC_VERIFY_PROJECT";
pub const VERCEL_OIDC_VERIFY_ENVIRONMENT: &str = "VERCEL_OIDC_VERIFY_ENVIRONMENT";
pub const VERCEL_OIDC_VERIFY_OWNER_ID: &str = "VERCEL_OIDC_VERIFY_OWNER_ID";
pub const VERCEL_OIDC_VERIFY_OWNER: &str = "VERCEL_OIDC_VERIFY_OWNER";
pub const VERCEL_OIDC_VERIFY_SUB: &str = "VERCEL_OIDC_VERIFY_SUB";

// --- the system ---

pub const HOME: &str = "HOME";
pub const PATH: &str = "PATH";
pub const XDG_CACHE_HOME: &str = "XDG_CACHE_HOME";
pub const XDG_CONFIG_HOME: &str = "XDG_CONFIG_HOME";
pub const XDG_DATA_HOME: &str = "XDG_DATA_HOME";
pub const XDG_RUNTIME_DIR: &str = "XDG_RUNTIME_DIR";
pub const SSL_CERT_FILE: &str = "SSL_CERT_FILE";
pub const HTTPS_PROXY: &str = "HTTPS_PROXY";
/// Read when `HTTPS_PROXY` is not set, as curl does.
pub const HTTPS_PROXY_LOWER: &str = "https_proxy";
/// Not read: plain http goes only to this machine, which is reached directly (`crate::http`).
pub const HTTP_PROXY: &str = "HTTP_PROXY";
pub const NO_PROXY: &str = "NO_PROXY";
pub const NO_PROXY_LOWER: &str = "no_proxy";

/// Every variable the crate reads itself as text (through `Env::get` or `Env::flag`, the
/// settings tables, or clap for a flag that takes text); `Env::check_text` refuses a value of
/// one of them that is not UTF-8, naming it. Not here: `PATH`, searched byte for byte;
/// `VERCEL_OIDC_PROJECT_DIR`, a path clap takes as it is; the variables `exec` only sets or
/// removes.
pub const READ: &[&str] = &[
    VERCEL_OIDC_TOKEN,
    VERCEL_OIDC_TOKEN_FILE,
    VERCEL,
    CI,
    VERCEL_OIDC_CONFIG,
    VERCEL_OIDC_NO_REFRESH,
    VERCEL_OIDC_NO_CACHE,
    VERCEL_OIDC_FORMAT,
    VERCEL_OIDC_EXEC_FORCE,
    VERCEL_OIDC_AWS_PROFILE,
    VERCEL_OIDC_VERIFY_ISSUER,
    VERCEL_OIDC_VERIFY_AUDIENCE,
    VERCEL_OIDC_VERIFY_LEEWAY,
    VERCEL_OIDC_VERIFY_PROJECT_ID,
    VERCEL_OIDC_VERIFY_PROJECT,
    VERCEL_OIDC_VERIFY_ENVIRONMENT,
    VERCEL_OIDC_VERIFY_OWNER_ID,
    VERCEL_OIDC_VERIFY_OWNER,
    VERCEL_OIDC_VERIFY_SUB,
    VERCEL_OIDC_CACHE_DIR,
    VERCEL_OIDC_SAFE_DIRS,
    VERCEL_OIDC_VERBOSE,
    VERCEL_OIDC_EXEC,
    VERCEL_OIDC_EXEC_CHECK_SECONDS,
    VERCEL_OIDC_API_URL,
    VERCEL_OIDC_OAUTH_ISSUER,
    AWS_ROLE_ARN,
    AWS_ROLE_SESSION_NAME,
    VERCEL_OIDC_AWS_DURATION_SECONDS,
    VERCEL_OIDC_AWS_REGION,
    VERCEL_OIDC_AWS_POLICY_ARNS,
    VERCEL_OIDC_AWS_POLICY,
    VERCEL_OIDC_AWS_CREDENTIALS,
    AWS_REGION,
    AWS_DEFAULT_REGION,
    AWS_ENDPOINT_URL_STS,
    AWS_ENDPOINT_URL,
    AWS_IGNORE_CONFIGURED_ENDPOINT_URLS,
    AWS_USE_FIPS_ENDPOINT,
    AWS_CONFIG_FILE,
    AWS_SHARED_CREDENTIALS_FILE,
    AWS_ACCESS_KEY_ID,
    VERCEL_OIDC_GCP_AUDIENCE,
    GCP_PROJECT_NUMBER,
    GCP_WORKLOAD_IDENTITY_POOL_ID,
    GCP_WORKLOAD_IDENTITY_POOL_PROVIDER_ID,
    GCP_SERVICE_ACCOUNT_EMAIL,
    GCP_PROJECT_ID,
    VERCEL_OIDC_GCP_TOKEN_LIFETIME_SECONDS,
    VERCEL_OIDC_GCP_TOKEN_URL,
    VERCEL_OIDC_GCP_IMPERSONATION_URL,
    VERCEL_OIDC_GCP_SCOPES,
    VERCEL_OIDC_GCP_SOURCE,
    VERCEL_OIDC_GCP_CREDENTIALS_FILE,
    GOOGLE_EXTERNAL_ACCOUNT_TOKEN_TYPE,
    GOOGLE_EXTERNAL_ACCOUNT_OUTPUT_FILE,
    GOOGLE_EXTERNAL_ACCOUNT_REVOKE,
    AZURE_TENANT_ID,
    AZURE_CLIENT_ID,
    AZURE_AUTHORITY_HOST,
    VERCEL_OIDC_AZURE_TOKEN_FILE,
    VERCEL_OIDC_AZURE_SCOPE,
    AZURE_SUBSCRIPTION_ID,
    ARM_SUBSCRIPTION_ID,
    VERCEL_OIDC_AZURE_CLI_LOGIN,
    HOME,
    XDG_CACHE_HOME,
    XDG_CONFIG_HOME,
    XDG_DATA_HOME,
    XDG_RUNTIME_DIR,
    SSL_CERT_FILE,
    HTTPS_PROXY,
    HTTPS_PROXY_LOWER,
    NO_PROXY,
    NO_PROXY_LOWER,
];
