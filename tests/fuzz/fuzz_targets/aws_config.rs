#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| vercel_oidc::aws::fuzz::aws_config(data));
