//! Where chatpass must not call Twilio: demo mode (no TWILIO_* values) and
//! `CHATPASS_TWILIO_SYNC=off`. The account's changes are queued all the same, and each
//! call is marked skipped instead of made; the stand-in, which the app is pointed at,
//! hears nothing.

use super::{delete, live_builder, outcomes, prove, rename, standin, Live};
use crate::common::TestApp;

/// An account proven, renamed and deleted; every row ends skipped, Twilio hears nothing.
/// `demo`: whether the app is in demo mode (its chat tokens say so).
async fn nothing_reaches_twilio(live: Live, demo: bool) {
    let ann = prove(&live.app, "ann@example.com", Some("Ann Lee")).await;
    assert_eq!(live.app.chat_token_with(&ann.client).await.demo, demo);
    rename(&live.app, &ann, "Ann B. Lee").await;
    delete(&live.app, &ann).await;
    let rows = live.settled(3).await;
    let skipped = [("create", "skipped"), ("rename", "skipped"), ("delete", "skipped")];
    assert_eq!(outcomes(&rows), skipped.map(|(c, o)| (c.to_string(), o.to_string())));
    assert!(
        rows.iter().all(|r| r.attempts == 1 && r.done_at.is_some() && r.last_error.is_none()),
        "{rows:#?}"
    );
    super::assert_names_no_one(&rows);
    assert_eq!(live.twilio.requests().await, [], "the stand-in was sent nothing");
    assert!(live.users().await.is_empty());
}

#[tokio::test]
async fn demo_mode_makes_no_twilio_call() {
    let twilio = standin().await;
    // Only the API URL: without the four TWILIO_* values the app is in demo mode.
    let app = TestApp::builder().env("CHATPASS_TWILIO_API_URL", twilio.url()).spawn().await;
    nothing_reaches_twilio(Live { app, twilio }, true).await;
}

#[tokio::test]
async fn sync_off_makes_no_twilio_call_in_live_mode() {
    let twilio = standin().await;
    let app = live_builder(&twilio).env("CHATPASS_TWILIO_SYNC", "off").spawn().await;
    nothing_reaches_twilio(Live { app, twilio }, false).await;
}
