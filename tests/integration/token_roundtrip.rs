//! Property: any identity string survives our encoder and a standard JWT decoder.

use crate::common::fixtures::{ACCOUNT_SID, API_KEY, SERVICE_SID};
use chatpass::token::{ChatGrant, Mode, TokenIssuer};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_identity_round_trips(identity in any::<String>().prop_filter("non-empty", |s| !s.is_empty()), now in 0u64..4_000_000_000) {
        let chat = ChatGrant { service_sid: SERVICE_SID.into(), ..Default::default() };
        let issuer = TokenIssuer::new(
            ACCOUNT_SID.into(),
            API_KEY.into(),
            "roundtrip-secret",
            chat,
            3600,
            None,
            Mode::Live,
        ).unwrap();
        let token = issuer.issue(&identity, now).unwrap().jwt;
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
        validation.validate_exp = false;
        validation.set_required_spec_claims::<&str>(&[]);
        let decoded = jsonwebtoken::decode::<serde_json::Value>(
            &token,
            &jsonwebtoken::DecodingKey::from_secret(b"roundtrip-secret"),
            &validation,
        ).unwrap();
        prop_assert_eq!(decoded.claims["grants"]["identity"].as_str().unwrap(), identity.as_str());
        prop_assert_eq!(decoded.claims["iat"].as_u64().unwrap(), now);
    }
}
