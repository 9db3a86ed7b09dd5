#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| vercel_oidc::gcp::fuzz::gcp_json(data));
