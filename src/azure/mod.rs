//! Azure: hand the Vercel token to Microsoft Entra ID as a federated client assertion.
//!
//! Two ways, both for an app registration (or user-assigned managed identity) that has a
//! federated identity credential matching the token's `iss`, `sub` and `aud`:
//!
//! - `federated_file`: write the token to a federated token file and name it in the variables
//!   every Azure SDK reads (`AZURE_CLIENT_ID`, `AZURE_TENANT_ID`, `AZURE_FEDERATED_TOKEN_FILE`,
//!   `AZURE_AUTHORITY_HOST`); the SDK then makes the exchange itself. No request is made here.
//! - `entra`: make the exchange here, `POST <authority>/<tenant>/oauth2/v2.0/token` (the form
//!   is described there), and return an access token for one scope.
//!
//! Settings, each from a flag or an environment variable (the CLI reads them):
//! - tenant id (`AZURE_TENANT_ID`), required: the Directory (tenant) ID or a verified domain,
//!   `[0-9A-Za-z.-]`, not `common`/`organizations`/`consumers`;
//! - client id (`AZURE_CLIENT_ID`), required: the Application (client) ID, a GUID;
//! - authority host (`AZURE_AUTHORITY_HOST`), default `https://login.microsoftonline.com/`,
//!   always https (the SDKs refuse anything else); a bare host name gets `https://`;
//! - the federated token file (`VERCEL_OIDC_AZURE_TOKEN_FILE`), see `federated_file`;
//! - for access tokens, the scope (`VERCEL_OIDC_AZURE_SCOPE`): one `<resource>/.default`, as
//!   client-credential tokens need.
//!
//! The HTTP client reads `SSL_CERT_FILE` and the proxy variables (`crate::http`).
//!
//! Files written: the federated token file; for access tokens, the shared cache entry
//! `azure-<hash>.json` (`crate::cache`), whose key covers everything that changes the result:
//! authority, tenant, client, scope, and the token's identity (issuer, subject, audience, owner,
//! project, environment), bound to the exact token that got it. An entry is handed out while more than [`MIN_REMAINING`] is left.

#[cfg(feature = "cli")]
mod cli;
pub(crate) mod entra;
mod exchange;
#[cfg(feature = "cli")]
pub(crate) mod federated_file;
#[cfg(feature = "cli")]
#[doc(hidden)]
pub mod fuzz;
pub mod settings;
pub(crate) mod trust;

use crate::vars;
use serde::Serialize;
use time::Duration;

pub(crate) use entra::EntraClient;
pub use entra::{AccessToken, EntraError, TokenRequest};
pub use exchange::access_token;

use crate::cache;
use crate::settings::Resolved;
use crate::token::Claims;

/// The public cloud's authority host, as the SDKs write it.
pub const DEFAULT_AUTHORITY_HOST: &str = "https://login.microsoftonline.com/";

/// The audience Entra proposes for a new federated credential.
pub const AZURE_DEFAULT_AUDIENCE: &str = "api://AzureADTokenExchange";

/// How long before expiry a cached access token stops being handed out.
pub const MIN_REMAINING: Duration = Duration::minutes(20);

/// Checked settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AzureConfig {
    pub tenant_id: String,
    pub client_id: String,
    pub authority: Authority,
    /// The subscription, when one is set: for azurerm and the Azure CLI.
    pub subscription_id: Option<String>,
}

/// Entra ID's hosts in Azure's clouds: public, US Government, China (two).
pub(crate) const ENTRA_HOSTS: &[&str] = &[
    "login.microsoftonline.com",
    "login.microsoftonline.us",
    "login.chinacloudapi.cn",
    "login.partner.microsoftonline.cn",
];

/// One of Azure's clouds, as the tools that are not SDKs name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cloud {
    Public,
    UsGovernment,
    China,
}

impl Cloud {
    /// The cloud whose Entra ID is at `host` ([`ENTRA_HOSTS`]).
    fn of_host(host: &str) -> Option<Self> {
        match ENTRA_HOSTS
            .iter()
            .position(|h| h.eq_ignore_ascii_case(host))?
        {
            0 => Some(Self::Public),
            1 => Some(Self::UsGovernment),
            _ => Some(Self::China),
        }
    }

    /// Terraform's `ARM_ENVIRONMENT`.
    pub fn arm_environment(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::UsGovernment => "usgovernment",
            Self::China => "china",
        }
    }

    /// The Azure CLI's name for it (`az cloud list`).
    pub fn cli_name(self) -> &'static str {
        match self {
            Self::Public => "AzureCloud",
            Self::UsGovernment => "AzureUSGovernment",
            Self::China => "AzureChinaCloud",
        }
    }
}

/// An https authority host with a trailing slash: `https://login.microsoftonline.com/`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authority(url::Url);

impl Authority {
    /// Checks and normalises `raw` as the SDKs do: a bare host gets `https://`; any other scheme
    /// than https is refused.
    pub fn parse(raw: &str) -> Result<Self, ConfigError> {
        let raw = raw.trim();
        let bad = |reason: &str| ConfigError::BadAuthority {
            value: raw.to_string(),
            reason: reason.to_string(),
        };
        let with_scheme = if raw.contains("://") {
            raw.to_string()
        } else {
            format!("https://{raw}")
        };
        let mut url =
            url::Url::parse(&with_scheme).map_err(|e| bad(&format!("not a URL ({e})")))?;
        match url.scheme() {
            "https" => {}
            "http" => {
                return Err(bad(
                    "it is plain http; Entra ID and every Azure SDK accept only https authorities",
                ));
            }
            other => return Err(bad(&format!("its scheme is `{other}`, not https"))),
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(bad("it has no host"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(bad("it has a query or fragment"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad("it carries a user name or password"));
        }
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        Ok(Self(url))
    }

    /// The authority host as printed for `AZURE_AUTHORITY_HOST`, with its trailing slash.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The Azure cloud this authority serves; `None` for another host (a stand-in on this
    /// machine, AD FS).
    pub fn cloud(&self) -> Option<Cloud> {
        self.0.host_str().and_then(Cloud::of_host)
    }

    /// `<authority>/<tenant>/oauth2/v2.0/token`.
    pub fn token_endpoint(&self, tenant_id: &str) -> String {
        format!("{}{tenant_id}/oauth2/v2.0/token", self.0)
    }

    /// The page that explains an AADSTS code, on this cloud's authority.
    pub fn error_page(&self, code: u32) -> String {
        format!("{}error?code={code}", self.0)
    }
}

/// Why the Azure settings cannot be used; `Display` is the
/// [`Explanation`](crate::problem::Explanation).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    MissingTenant,
    BadTenant(String),
    MultiTenantAlias(String),
    MissingClient,
    BadClient(String),
    BadAuthority { value: String, reason: String },
    BadSubscription(String),
    MissingScope,
    BadScope(String, String),
}

impl crate::problem::Explain for ConfigError {
    fn explain(&self) -> crate::problem::Explanation {
        use crate::problem::Explanation as E;
        match self {
            Self::MissingTenant => E::new(
                "no Azure tenant id",
                "pass --tenant-id or set AZURE_TENANT_ID (or `tenant_id` under `[azure]` in vercel-oidc.toml) to the Directory (tenant) ID shown on the app registration's overview",
            ),
            Self::BadTenant(tenant) => E::new(
                format!("`{}` is not a tenant id", tenant.escape_debug()),
                "use the Directory (tenant) ID, a GUID, or a verified domain such as `contoso.onmicrosoft.com` (--tenant-id or AZURE_TENANT_ID)",
            ),
            Self::MultiTenantAlias(tenant) => E::new(
                format!(
                    "tenant `{}` names no single directory, and an app's own token needs one",
                    tenant.escape_debug()
                ),
                "pass the Directory (tenant) ID of the app registration (--tenant-id or AZURE_TENANT_ID)",
            ),
            Self::MissingClient => E::new(
                "no Azure client id",
                "pass --client-id or set AZURE_CLIENT_ID (or `client_id` under `[azure]` in vercel-oidc.toml) to the Application (client) ID of the app registration (or user-assigned managed identity) that trusts the Vercel token",
            ),
            Self::BadClient(client) => E::new(
                format!("`{}` is not a client id", client.escape_debug()),
                "use the Application (client) ID, a GUID like `00000000-0000-0000-0000-000000000000` shown on the app registration's overview, not its name or object id (--client-id or AZURE_CLIENT_ID)",
            ),
            Self::BadAuthority { value, reason } => E::new(
                format!(
                    "cannot use the authority host `{}`: {reason}",
                    value.escape_debug()
                ),
                "use https://login.microsoftonline.com/ (the default) or your cloud's, such as https://login.microsoftonline.us/ (--authority-host or AZURE_AUTHORITY_HOST)",
            ),
            Self::BadSubscription(subscription) => E::new(
                format!("`{}` is not a subscription id", subscription.escape_debug()),
                "use the Subscription ID, a GUID like `00000000-0000-0000-0000-000000000000` shown by `az account list` or on the subscription's overview, not its name (--subscription-id or AZURE_SUBSCRIPTION_ID)",
            ),
            Self::MissingScope => E::new(
                "no scope to request",
                "pass --scope with the resource's `.default` scope, for example `https://management.azure.com/.default`",
            ),
            Self::BadScope(scope, reason) => E::new(
                format!(
                    "`{}` is not a scope Entra ID accepts here: {reason}",
                    scope.escape_debug()
                ),
                "pass one `<resource>/.default` scope, for example `https://management.azure.com/.default` (--scope)",
            ),
        }
    }
}

crate::problem::display_as_explained!(ConfigError);

impl AzureConfig {
    /// Checks the resolved settings.
    pub fn from_settings(r: &Resolved) -> Result<Self, ConfigError> {
        let non_empty = |setting: &crate::settings::Setting| non_empty(r.text(setting));
        let tenant_id = non_empty(&settings::TENANT_ID).ok_or(ConfigError::MissingTenant)?;
        check_tenant(&tenant_id)?;
        let client_id = non_empty(&settings::CLIENT_ID).ok_or(ConfigError::MissingClient)?;
        check_client(&client_id)?;
        let authority = match non_empty(&settings::AUTHORITY_HOST) {
            Some(raw) => Authority::parse(&raw)?,
            None => Authority::parse(DEFAULT_AUTHORITY_HOST)?,
        };
        let subscription_id = non_empty(&settings::SUBSCRIPTION_ID);
        if let Some(subscription) = &subscription_id {
            check_subscription(subscription)?;
        }
        Ok(Self {
            tenant_id,
            client_id,
            authority,
            subscription_id,
        })
    }

    /// The environment the Azure SDKs' workload identity credential reads, and Terraform's
    /// azurerm and azuread providers, with the token in `token_file`; the subscription when set,
    /// and the provider's cloud when the authority is one of Azure's.
    pub fn env_vars(&self, token_file: &std::path::Path) -> Vec<(&'static str, String)> {
        let token_file = token_file.display().to_string();
        let mut vars = vec![
            (vars::AZURE_CLIENT_ID, self.client_id.clone()),
            (vars::AZURE_TENANT_ID, self.tenant_id.clone()),
            (vars::AZURE_FEDERATED_TOKEN_FILE, token_file.clone()),
            (
                vars::AZURE_AUTHORITY_HOST,
                self.authority.as_str().to_string(),
            ),
        ];
        if let Some(subscription) = &self.subscription_id {
            vars.push((vars::AZURE_SUBSCRIPTION_ID, subscription.clone()));
        }
        vars.extend([
            (vars::ARM_USE_OIDC, "true".to_string()),
            (vars::ARM_CLIENT_ID, self.client_id.clone()),
            (vars::ARM_TENANT_ID, self.tenant_id.clone()),
            (vars::ARM_OIDC_TOKEN_FILE_PATH, token_file),
        ]);
        if let Some(subscription) = &self.subscription_id {
            vars.push((vars::ARM_SUBSCRIPTION_ID, subscription.clone()));
        }
        if let Some(cloud) = self.authority.cloud() {
            vars.push((vars::ARM_ENVIRONMENT, cloud.arm_environment().to_string()));
        }
        vars
    }

    pub fn token_endpoint(&self) -> String {
        self.authority.token_endpoint(&self.tenant_id)
    }

    /// The request for an access token for `scope`.
    pub fn request(&self, scope: &str) -> TokenRequest {
        TokenRequest {
            tenant_id: self.tenant_id.clone(),
            client_id: self.client_id.clone(),
            scope: scope.to_string(),
        }
    }
}

fn non_empty(value: Option<&str>) -> Option<String> {
    value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

/// A tenant id as the SDKs allow it (`[0-9A-Za-z.-]`), naming one directory.
pub fn check_tenant(tenant: &str) -> Result<(), ConfigError> {
    if !tenant
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
    {
        return Err(ConfigError::BadTenant(tenant.to_string()));
    }
    if ["common", "organizations", "consumers"]
        .iter()
        .any(|alias| tenant.eq_ignore_ascii_case(alias))
    {
        return Err(ConfigError::MultiTenantAlias(tenant.to_string()));
    }
    Ok(())
}

/// A client id: a GUID.
pub fn check_client(client_id: &str) -> Result<(), ConfigError> {
    if is_guid(client_id) {
        Ok(())
    } else {
        Err(ConfigError::BadClient(client_id.to_string()))
    }
}

/// A subscription id: a GUID.
pub fn check_subscription(subscription_id: &str) -> Result<(), ConfigError> {
    if is_guid(subscription_id) {
        Ok(())
    } else {
        Err(ConfigError::BadSubscription(subscription_id.to_string()))
    }
}

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` in hex digits.
pub fn is_guid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, len)| g.len() == len && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Checks a scope for the client-credential grant: one `<resource>/.default`.
pub fn check_scope(scope: Option<&str>) -> Result<String, ConfigError> {
    let scope = scope
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or(ConfigError::MissingScope)?;
    let bad = |reason: &str| ConfigError::BadScope(scope.to_string(), reason.to_string());
    if scope.contains(char::is_whitespace) {
        return Err(bad(
            "it holds more than one scope; an app token is for one resource",
        ));
    }
    if let Some(c) = scope
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "._-:/".contains(*c)))
    {
        return Err(bad(&format!("it contains `{c}`")));
    }
    if !scope.ends_with("/.default") {
        return Err(bad(&format!(
            "an app's own token takes the resource's `.default` scope, such as `{}/.default`",
            scope.trim_end_matches('/')
        )));
    }
    Ok(scope.to_string())
}

/// The cache key for `req` at `authority` with a token of these claims.
pub(crate) fn cache_key(req: &TokenRequest, authority: &Authority, claims: &Claims) -> cache::Key {
    #[derive(Serialize)]
    struct Parts<'a> {
        authority: &'a str,
        req: &'a TokenRequest,
    }
    let authority = authority.as_str();
    cache::Key::for_identity("azure", 1, &Parts { authority, req }, claims)
}

/// Azure in the list of clouds ([`crate::clouds`]).
pub struct Azure;

impl crate::cloud::Cloud for Azure {
    fn table(&self) -> &'static crate::settings::Table {
        &settings::TABLE
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::tests::key_follows_identity;

    const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    const CLIENT: &str = "11111111-2222-3333-4444-555555555555";

    /// The settings as a flag would give each, as the tests wrote them before the settings
    /// table.
    #[derive(Clone, Debug, Default)]
    struct AzureOptions {
        tenant_id: Option<String>,
        client_id: Option<String>,
        authority_host: Option<String>,
    }

    impl AzureConfig {
        fn from_options(o: &AzureOptions) -> Result<Self, ConfigError> {
            let pairs = [
                ("tenant_id", o.tenant_id.as_deref()),
                ("client_id", o.client_id.as_deref()),
                ("authority_host", o.authority_host.as_deref()),
            ];
            let env = crate::Env::default();
            Self::from_settings(&crate::settings::resolved_from_options(
                &settings::TABLE,
                &pairs,
                &env,
            ))
        }
    }

    fn opts() -> AzureOptions {
        AzureOptions {
            tenant_id: Some(TENANT.into()),
            client_id: Some(CLIENT.into()),
            authority_host: None,
        }
    }

    #[test]
    fn defaults_and_endpoint() {
        let cfg = AzureConfig::from_options(&opts()).unwrap();
        assert_eq!(cfg.authority.as_str(), "https://login.microsoftonline.com/");
        assert_eq!(
            cfg.token_endpoint(),
            format!("https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token")
        );
    }

    #[test]
    fn authority_forms() {
        for (raw, want) in [
            (
                "https://login.microsoftonline.us",
                "https://login.microsoftonline.us/",
            ),
            (
                "https://login.microsoftonline.us/",
                "https://login.microsoftonline.us/",
            ),
            ("login.chinacloudapi.cn", "https://login.chinacloudapi.cn/"),
            ("  https://127.0.0.1:8443/ ", "https://127.0.0.1:8443/"),
            (
                "https://adfs.example.com/adfs",
                "https://adfs.example.com/adfs/",
            ),
        ] {
            assert_eq!(Authority::parse(raw).unwrap().as_str(), want, "{raw}");
        }
        assert_eq!(
            Authority::parse("https://127.0.0.1:8443")
                .unwrap()
                .token_endpoint("t"),
            "https://127.0.0.1:8443/t/oauth2/v2.0/token"
        );
    }

    #[test]
    fn option_errors() {
        let with = |f: fn(&mut AzureOptions)| {
            let mut o = opts();
            f(&mut o);
            o
        };
        let cases: Vec<(AzureOptions, &str)> = vec![
            (with(|o| o.tenant_id = None), "no Azure tenant id"),
            (
                with(|o| o.tenant_id = Some("  ".into())),
                "no Azure tenant id",
            ),
            (
                with(|o| o.tenant_id = Some("my tenant".into())),
                "`my tenant` is not a tenant id",
            ),
            (
                with(|o| o.tenant_id = Some("a/b".into())),
                "`a/b` is not a tenant id",
            ),
            (
                with(|o| o.tenant_id = Some("common".into())),
                "tenant `common` names no single directory",
            ),
            (
                with(|o| o.tenant_id = Some("Organizations".into())),
                "tenant `Organizations` names no single directory",
            ),
            (with(|o| o.client_id = None), "no Azure client id"),
            (
                with(|o| o.client_id = Some("my-app".into())),
                "`my-app` is not a client id",
            ),
            (
                with(|o| o.client_id = Some("11111111-2222-3333-4444-55555555555g".into())),
                "`11111111-2222-3333-4444-55555555555g` is not a client id",
            ),
            (
                with(|o| o.authority_host = Some("http://login.example.com".into())),
                "cannot use the authority host `http://login.example.com`: it is plain http",
            ),
            (
                with(|o| o.authority_host = Some("http://127.0.0.1:8080".into())),
                "cannot use the authority host `http://127.0.0.1:8080`: it is plain http",
            ),
            (
                with(|o| o.authority_host = Some("ftp://x".into())),
                "cannot use the authority host `ftp://x`: its scheme is `ftp`",
            ),
            (
                with(|o| o.authority_host = Some("https://x/?a=1".into())),
                "cannot use the authority host `https://x/?a=1`: it has a query",
            ),
            (
                with(|o| o.authority_host = Some("https://u:p@x/".into())),
                "cannot use the authority host `https://u:p@x/`: it carries a user name",
            ),
        ];
        for (o, want) in cases {
            let err = AzureConfig::from_options(&o).unwrap_err().to_string();
            assert!(err.starts_with(want), "got {err:?}, want {want:?}");
            assert!(
                err.contains("\n  "),
                "every message ends with what to do: {err}"
            );
        }
        let ok = with(|o| o.tenant_id = Some("contoso.onmicrosoft.com".into()));
        assert!(AzureConfig::from_options(&ok).is_ok());
    }

    #[test]
    fn scopes() {
        assert_eq!(
            check_scope(Some(" https://management.azure.com/.default ")).unwrap(),
            "https://management.azure.com/.default"
        );
        assert!(check_scope(Some("api://11111111-2222-3333-4444-555555555555/.default")).is_ok());
        let cases: [(Option<&str>, &str); 5] = [
            (None, "no scope to request"),
            (Some(""), "no scope to request"),
            (
                Some("https://management.azure.com/"),
                "`https://management.azure.com/` is not a scope Entra ID accepts here: an app's own token takes the resource's `.default` scope, such as `https://management.azure.com/.default`",
            ),
            (
                Some("https://a/.default https://b/.default"),
                "`https://a/.default https://b/.default` is not a scope Entra ID accepts here: it holds more than one scope",
            ),
            (
                Some("https://a/.default?x"),
                "`https://a/.default?x` is not a scope Entra ID accepts here: it contains `?`",
            ),
        ];
        for (scope, want) in cases {
            let err = check_scope(scope).unwrap_err().to_string();
            assert!(err.starts_with(want), "got {err:?}, want {want:?}");
        }
    }

    #[test]
    fn cache_key_covers_identity_and_request() {
        let cfg = AzureConfig::from_options(&opts()).unwrap();
        let scope = "https://management.azure.com/.default";
        let key = |c: &Claims, cfg: &AzureConfig, scope: &str| {
            cache_key(&cfg.request(scope), &cfg.authority, c)
        };
        let (base, k0) = key_follows_identity(|c| key(c, &cfg, scope));
        assert_ne!(key(&base, &cfg, "https://graph.microsoft.com/.default"), k0);
        let mut other = cfg.clone();
        other.client_id = "11111111-2222-3333-4444-666666666666".into();
        assert_ne!(key(&base, &other, scope), k0);
        let mut other = cfg.clone();
        other.tenant_id = "contoso.onmicrosoft.com".into();
        assert_ne!(key(&base, &other, scope), k0);
        let mut other = cfg.clone();
        other.authority = Authority::parse("login.microsoftonline.us").unwrap();
        assert_ne!(key(&base, &other, scope), k0);
    }
}
