#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| vercel_oidc::azure::fuzz::entra_json(data));
