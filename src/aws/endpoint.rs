//! Which STS endpoint to call.
//!
//! 1. `AWS_ENDPOINT_URL_STS`, then `AWS_ENDPOINT_URL` (both ignored when
//!    `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`);
//! 2. otherwise by region (the setting [`super::settings::REGION`]: `--region`,
//!    `VERCEL_OIDC_AWS_REGION`, `vercel-oidc.toml`, then `AWS_REGION`, then `AWS_DEFAULT_REGION`)
//!    and partition: `https://sts.<region>.amazonaws.com`, `.amazonaws.com.cn` in China, FIPS
//!    (`AWS_USE_FIPS_ENDPOINT=true`) as `sts-fips.<region>` except in GovCloud, where the regional
//!    endpoint already is FIPS;
//! 3. no region: the global `https://sts.amazonaws.com`.
//!
//! On Vercel, `AWS_REGION` is the function's execution region, which is why the flag wins.

use serde::Serialize;

use crate::env::Env;
use crate::settings::{Origin, Value};
use crate::vars;

/// The STS endpoint to call: `AWS_ENDPOINT_URL_STS`, then `AWS_ENDPOINT_URL` (unless
/// `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`), else the region's for its partition (FIPS with
/// `AWS_USE_FIPS_ENDPOINT`), else the global one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StsEndpoint {
    pub url: String,
    pub region: Option<String>,
    /// Where the URL came from: a variable, or the default for the region (or none).
    #[serde(skip)]
    pub origin: Origin,
}

/// Why the STS endpoint cannot be chosen; `Display` is the
/// [`Explanation`](crate::problem::Explanation).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    /// A region that is not one, and where it came from when known.
    BadRegion(String, Option<Origin>),
}

impl crate::problem::Explain for EndpointError {
    fn explain(&self) -> crate::problem::Explanation {
        match self {
            Self::BadRegion(region, origin) => crate::problem::Explanation::new(
                format!("`{}` is not an AWS region name", region.escape_debug()),
                match origin {
                    Some(origin) => {
                        format!("use a region such as `us-east-1` (this one came from {origin})")
                    }
                    None => "use a region such as `us-east-1`".to_string(),
                },
            ),
        }
    }
}

crate::problem::display_as_explained!(EndpointError);

/// A region name: lowercase letters, digits and `-`.
pub fn check_region(region: &str) -> Result<(), EndpointError> {
    let ok = !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(EndpointError::BadRegion(region.to_string(), None))
    }
}

/// Resolves the endpoint as described in the module docs, for the resolved `region`.
pub fn resolve(env: &Env, region: Option<&Value>) -> Result<StsEndpoint, EndpointError> {
    let origin = region.map(|v| v.origin.clone());
    let region = region.map(|v| v.raw.text()).filter(|r| !r.is_empty());
    if let Some(r) = &region {
        check_region(r).map_err(|EndpointError::BadRegion(bad, _)| {
            EndpointError::BadRegion(bad, origin.clone())
        })?;
    }
    if !env.flag(vars::AWS_IGNORE_CONFIGURED_ENDPOINT_URLS)
        && let Some(var) = [vars::AWS_ENDPOINT_URL_STS, vars::AWS_ENDPOINT_URL]
            .into_iter()
            .find(|v| env.get(v).is_some())
    {
        return Ok(StsEndpoint {
            url: env.get(var).unwrap_or_default().to_string(),
            region,
            origin: Origin::Env(var),
        });
    }
    let fips = env.flag(vars::AWS_USE_FIPS_ENDPOINT);
    let url = match region.as_deref() {
        None if fips => "https://sts-fips.us-east-1.amazonaws.com".to_string(),
        None => "https://sts.amazonaws.com".to_string(),
        Some(r) if r.starts_with("cn-") => format!("https://sts.{r}.amazonaws.com.cn"),
        Some(r) if r.starts_with("us-gov-") => format!("https://sts.{r}.amazonaws.com"),
        Some(r) if r.starts_with("us-isob-") => format!("https://sts.{r}.sc2s.sgov.gov"),
        Some(r) if r.starts_with("us-iso-") => format!("https://sts.{r}.c2s.ic.gov"),
        Some(r) if fips => format!("https://sts-fips.{r}.amazonaws.com"),
        Some(r) => format!("https://sts.{r}.amazonaws.com"),
    };
    let origin = Origin::Default(match region {
        Some(_) => "the region's",
        None => "no region: the global one",
    });
    Ok(StsEndpoint {
        url,
        region,
        origin,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::settings::{REGION, TABLE};
    use crate::settings::{FileLayers, Given, Raw, Resolved};

    /// The endpoint for `flag` as `--region`, the region resolved through the settings table.
    fn resolve_with(env: &Env, flag: Option<&str>) -> Result<StsEndpoint, EndpointError> {
        let mut given = Given::default();
        if let Some(region) = flag {
            given.set(
                &TABLE,
                &REGION,
                Raw::One(region.into()),
                Origin::Flag("region"),
            );
        }
        let r = Resolved::resolve(&TABLE, &given, env, FileLayers::default());
        resolve(env, r.get(&REGION))
    }

    #[test]
    fn table() {
        type Case<'a> = (&'a [(&'a str, &'a str)], Option<&'a str>, &'a str);
        let cases: &[Case] = &[
            (
                &[(vars::AWS_REGION, "us-east-1")],
                None,
                "https://sts.us-east-1.amazonaws.com",
            ),
            (
                &[(vars::AWS_REGION, "eu-west-1")],
                None,
                "https://sts.eu-west-1.amazonaws.com",
            ),
            (
                &[(vars::AWS_REGION, "cn-north-1")],
                None,
                "https://sts.cn-north-1.amazonaws.com.cn",
            ),
            (
                &[(vars::AWS_REGION, "us-gov-west-1")],
                None,
                "https://sts.us-gov-west-1.amazonaws.com",
            ),
            (
                &[
                    (vars::AWS_REGION, "us-gov-west-1"),
                    (vars::AWS_USE_FIPS_ENDPOINT, "true"),
                ],
                None,
                "https://sts.us-gov-west-1.amazonaws.com",
            ),
            (
                &[
                    (vars::AWS_REGION, "us-east-2"),
                    (vars::AWS_USE_FIPS_ENDPOINT, "true"),
                ],
                None,
                "https://sts-fips.us-east-2.amazonaws.com",
            ),
            (
                &[
                    (vars::AWS_REGION, "us-east-2"),
                    (vars::AWS_USE_FIPS_ENDPOINT, "false"),
                ],
                None,
                "https://sts.us-east-2.amazonaws.com",
            ),
            (&[], None, "https://sts.amazonaws.com"),
            (
                &[(vars::AWS_USE_FIPS_ENDPOINT, "true")],
                None,
                "https://sts-fips.us-east-1.amazonaws.com",
            ),
            (
                &[(vars::AWS_DEFAULT_REGION, "ap-south-1")],
                None,
                "https://sts.ap-south-1.amazonaws.com",
            ),
            (
                &[
                    (vars::AWS_REGION, "eu-west-1"),
                    (vars::AWS_DEFAULT_REGION, "ap-south-1"),
                ],
                None,
                "https://sts.eu-west-1.amazonaws.com",
            ),
            (
                &[(vars::AWS_REGION, "iad1-is-vercel")],
                Some("eu-central-1"),
                "https://sts.eu-central-1.amazonaws.com",
            ),
            (
                &[
                    (vars::AWS_ENDPOINT_URL, "http://127.0.0.1:1"),
                    (vars::AWS_REGION, "eu-west-1"),
                ],
                None,
                "http://127.0.0.1:1",
            ),
            (
                &[
                    (vars::AWS_ENDPOINT_URL, "http://127.0.0.1:1"),
                    (vars::AWS_ENDPOINT_URL_STS, "http://127.0.0.1:2"),
                ],
                None,
                "http://127.0.0.1:2",
            ),
            (
                &[
                    (vars::AWS_ENDPOINT_URL_STS, "http://127.0.0.1:2"),
                    (vars::AWS_IGNORE_CONFIGURED_ENDPOINT_URLS, "true"),
                ],
                None,
                "https://sts.amazonaws.com",
            ),
        ];
        for (vars, flag, want) in cases {
            let env = Env::from_pairs(vars.iter().copied(), "/");
            assert_eq!(
                resolve_with(&env, *flag).unwrap().url,
                *want,
                "{vars:?} {flag:?}"
            );
        }
    }

    #[test]
    fn region_is_reported_and_checked() {
        let env = Env::from_pairs([(vars::AWS_REGION, "eu-west-1")], "/");
        assert_eq!(
            resolve_with(&env, Some("us-west-2"))
                .unwrap()
                .region
                .as_deref(),
            Some("us-west-2")
        );
        let err = resolve_with(&env, Some("US West")).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("`US West` is not an AWS region name")
        );
    }
}
