//! "Connected devices" on `/account`: the apps signed in to the account with a device token,
//! each with a button that disconnects it, and a form that connects one from this browser.
//! The new device's token is shown once, to be pasted into the app's sign-in.

use leptos::{prelude::*, task::spawn_local};

use crate::{
    devices::{device_tokens, ConnectDevice, DeviceInfo, NewDevice, RevokeDeviceToken},
    error::AppError,
    pages::form::{ErrorSummary, Field, ReturnedError},
};

/// The section, rendered on the server around its island. The `<noscript>` line stays out
/// of the island: the browser parses its content as text, which hydration would not find.
#[component]
pub fn ConnectedDevices(list: Vec<DeviceInfo>, returned: Option<ReturnedError>) -> impl IntoView {
    view! {
        <section class="card" data-testid="connected-devices">
            <h2>"Connected devices"</h2>
            <p class="hint">
                "Apps (a phone, a tablet, a desktop app) that get chat tokens for this account with a device token of their own."
            </p>
            <noscript>
                <p class="banner demo">
                    "Connecting a device needs JavaScript: its token is shown on this page once. Disconnecting works without."
                </p>
            </noscript>
            <DeviceList list returned />
        </section>
    }
}

/// The list and the connect form, one island: connecting or disconnecting refetches the
/// list. Without JavaScript a disconnect is a plain post that comes back to the page,
/// which lists the devices afresh; connecting waits for hydration (the button is disabled
/// until then), since a plain post would lose the token it is answered with.
#[island(lazy)]
fn DeviceList(list: Vec<DeviceInfo>, returned: Option<ReturnedError>) -> impl IntoView {
    crate::pages::hydration::island_hydrated();
    if let Some(returned) = returned {
        returned.provide();
    }
    let connect = ServerAction::<ConnectDevice>::new();
    let revoke = ServerAction::<RevokeDeviceToken>::new();
    let devices = RwSignal::new(list);
    let list_error = RwSignal::new(None::<AppError>);
    // Devices disconnected from this page: their rows (and a token just shown) go at once.
    let gone = RwSignal::new(Vec::<String>::new());
    let copied = RwSignal::new(None::<bool>);
    let hydrated = RwSignal::new(false);
    // Marks the form live; after a connect or a disconnect, refetches the list (after a
    // failed disconnect too: "disconnected already" means the list is stale).
    Effect::new(move || {
        hydrated.set(true);
        copied.set(None);
        let revoked = revoke.value().get();
        if let Some(Ok(done)) = &revoked {
            gone.update(|g| g.push(done.id.clone()));
        }
        list_error.set(revoked.clone().and_then(Result::err));
        if revoked.is_some() || connect.value().with(|v| matches!(v, Some(Ok(_)))) {
            spawn_local(async move {
                match device_tokens().await {
                    Ok(fresh) => devices.set(fresh.devices),
                    Err(error) => list_error.set(Some(error)),
                }
            });
        }
    });
    let connect_error = Signal::derive(move || connect.value().get().and_then(Result::err));
    let new_device =
        move || connect.value().get().and_then(Result::ok).filter(|new| !gone.with(|g| g.contains(&new.id)));
    let rows = move || {
        let listed: Vec<DeviceInfo> =
            devices.get().into_iter().filter(|d| !gone.with(|g| g.contains(&d.id))).collect();
        if listed.is_empty() {
            return view! { <p data-testid="no-devices">"No apps are connected."</p> }.into_any();
        }
        let rows = listed.into_iter().map(|device| view! { <DeviceRow device revoke /> }).collect_view();
        view! { <ul class="browsers devices">{rows}</ul> }.into_any()
    };
    view! {
        <ErrorSummary error=list_error fields=&[] />
        {rows}
        <h3>"Connect a device"</h3>
        <ActionForm action=connect attr:class="stack" attr:novalidate=true>
            <ErrorSummary error=connect_error fields=&["device_name"] />
            <Field
                name="device_name"
                label="Device name"
                kind="text"
                autocomplete="off"
                hint="1 to 64 characters, to tell your devices apart (say, Ana's phone); no invisible formatting characters."
                error=connect_error
            />
            <button type="submit" disabled=move || !hydrated.get() || connect.pending().get()>
                "Connect device"
            </button>
        </ActionForm>
        {move || new_device().map(|new| view! { <NewToken new copied /> })}
    }
    // Type-erased: nested in the account page's view, the full type is past the
    // compiler's query depth limit.
    .into_any()
}

/// One listed device and its disconnect button (the device's name is in the button's
/// accessible name, so that each button says which device it ends).
#[component]
fn DeviceRow(device: DeviceInfo, revoke: ServerAction<RevokeDeviceToken>) -> impl IntoView {
    let last_used = match device.last_used_at {
        Some(at) => format!("last used {}", utc_minute(at)),
        None => "never used".to_string(),
    };
    view! {
        <li data-testid="device">
            <strong>{device.device_name.clone()}</strong>
            <br />
            <span class="hint">"Connected " {utc_minute(device.created_at)} "; " {last_used}</span>
            <ActionForm action=revoke attr:class="inline">
                <input type="hidden" name="id" value=device.id />
                <button type="submit" disabled=move || revoke.pending().get()>
                    "Disconnect"
                    <span class="visually-hidden">" " {device.device_name}</span>
                </button>
            </ActionForm>
        </li>
    }
}

/// The token of the device just connected, shown this once, with a copy button.
#[component]
fn NewToken(new: NewDevice, copied: RwSignal<Option<bool>>) -> impl IntoView {
    let token = new.device_token.clone();
    let copy = move |_| {
        let token = token.clone();
        spawn_local(async move { copied.set(Some(write_to_clipboard(token).await)) });
    };
    let said = move || match copied.get() {
        Some(true) => "Copied",
        Some(false) => "Copying failed: select the token and copy it yourself.",
        None => "",
    };
    view! {
        <div class="new-device" data-testid="new-device">
            <p class="banner ok" role="status">
                {new.device_name} " is connected. Paste this token into the app's sign-in now: "
                "it is shown only this once and will not be shown again."
            </p>
            <div class="field">
                <label for="device-token">"Device token"</label>
                <div class="row">
                    <input
                        id="device-token"
                        data-testid="device-token"
                        readonly=true
                        value=new.device_token
                        autocomplete="off"
                        spellcheck="false"
                    />
                    <button type="button" on:click=copy>
                        "Copy"
                    </button>
                </div>
                <span class="hint" role="status" data-testid="token-copied">
                    {said}
                </span>
            </div>
        </div>
    }
}

/// `navigator.clipboard.writeText`; false where the browser refuses (no clipboard on an
/// insecure origin, a denied permission).
async fn write_to_clipboard(text: String) -> bool {
    #[cfg(feature = "hydrate")]
    {
        match clipboard::write_text(&text) {
            Ok(promise) => wasm_bindgen_futures::JsFuture::from(promise).await.is_ok(),
            Err(_) => false,
        }
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = text;
        false
    }
}

#[cfg(feature = "hydrate")]
mod clipboard {
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen]
    extern "C" {
        // `catch`: where `navigator.clipboard` is undefined the call throws.
        #[wasm_bindgen(catch, js_namespace = ["navigator", "clipboard"], js_name = writeText)]
        pub fn write_text(text: &str) -> Result<js_sys::Promise, JsValue>;
    }
}

/// Unix seconds as `YYYY-MM-DD HH:MM UTC`, by integer arithmetic (the proleptic Gregorian
/// calendar, Howard Hinnant's `civil_from_days`): the server's HTML and the browser's
/// refreshed list must agree, and the browser has no date crate.
pub fn utc_minute(unix: i64) -> String {
    let (days, seconds) = (unix.div_euclid(86_400), unix.rem_euclid(86_400));
    // Days since 0000-03-01, in 400-year eras of 146,097 days.
    let z = days + 719_468;
    let (era, day_of_era) = (z.div_euclid(146_097), z.rem_euclid(146_097));
    let year_of_era = (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    // Months counted from March, so that February's leap day comes last.
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 { month_from_march + 3 } else { month_from_march - 9 };
    let year = era * 400 + year_of_era + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02} UTC", seconds / 3_600, seconds % 3_600 / 60)
}

#[cfg(test)]
mod tests {
    use super::utc_minute;

    #[test]
    fn formats_unix_seconds_to_the_minute_in_utc() {
        assert_eq!(utc_minute(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc_minute(59), "1970-01-01 00:00 UTC");
        assert_eq!(utc_minute(-1), "1969-12-31 23:59 UTC");
        assert_eq!(utc_minute(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(utc_minute(1_709_251_199), "2024-02-29 23:59 UTC");
        assert_eq!(utc_minute(1_764_645_600), "2025-12-02 03:20 UTC");
        assert_eq!(utc_minute(4_102_444_799), "2099-12-31 23:59 UTC");
        assert_eq!(utc_minute(253_402_300_799), "9999-12-31 23:59 UTC");
    }

    proptest::proptest! {
        /// The `time` crate (server only) as the reference, from year 1 to 9999.
        #[test]
        fn agrees_with_the_time_crate(unix in -62_135_596_800i64..253_402_300_800) {
            let at = time::OffsetDateTime::from_unix_timestamp(unix).unwrap();
            let (month, hour, minute) = (u8::from(at.month()), at.hour(), at.minute());
            let reference = format!("{:04}-{month:02}-{:02} {hour:02}:{minute:02} UTC", at.year(), at.day());
            proptest::prop_assert_eq!(utc_minute(unix), reference);
        }
    }
}
