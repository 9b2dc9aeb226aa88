//! Any CreateUrls body is parsed or refused with a named error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sfn_callbacks_core::Features;
use sfn_callbacks_core::create::CreateRequest;

fuzz_target!(|data: &[u8]| {
    let now = time::OffsetDateTime::from_unix_timestamp(1_900_000_000).expect("time");
    let policy = Features {
        output_parameters: true,
        post_actions: true,
        sign_in: true,
        slack: true,
    };
    if let Err(rejection) = CreateRequest::parse(data, policy, now) {
        assert!(!rejection.message.is_empty());
    }
});
