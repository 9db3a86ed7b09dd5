"""The cloud identities the interop tests configure against their stand-ins, written once: the
GCP workload identity provider and service account, the Azure tenant and app, the scopes asked
for, and the AWS settings that keep a client off this machine's own AWS configuration."""

GCP_NUMBER = "123456789012"
GCP_POOL = "vercel"
GCP_PROVIDER = "vercel-acme"
GCP_AUDIENCE = (f"//iam.googleapis.com/projects/{GCP_NUMBER}/locations/global/"
                f"workloadIdentityPools/{GCP_POOL}/providers/{GCP_PROVIDER}")
GCP_SA = "deploy@my-project.iam.gserviceaccount.com"
GCP_SCOPE = "https://www.googleapis.com/auth/devstorage.read_only"
AZURE_TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
AZURE_CLIENT = "11111111-2222-3333-4444-555555555555"
AZURE_SCOPE = "https://management.azure.com/.default"


def isolated_aws(folder):
    """Environment that points an AWS client at no config or credentials file and no instance
    metadata, so it can only use what vercel-oidc hands it."""
    return {
        "AWS_CONFIG_FILE": str(folder / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(folder / "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
