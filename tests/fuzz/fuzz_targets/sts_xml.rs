#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| vercel_oidc::aws::fuzz::sts_xml(data));
