//! The login and sign-up pages' way in through the team's OpenID provider: its button, and
//! why a sign-in through it came back refused (`/login?sso=<why>`). Server-rendered only:
//! whether a provider is configured is the server's to know.

use leptos::prelude::*;

/// The provider's button label (`CHATPASS_OIDC_NAME`), when one is configured.
fn provider_name() -> Option<String> {
    #[cfg(feature = "ssr")]
    {
        use_context::<std::sync::Arc<crate::idp::Provider>>().map(|p| p.settings.name.clone())
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
}

/// Whether the password forms are shown (`CHATPASS_PASSWORD_LOGIN`, on by default).
pub fn password_login_on() -> bool {
    #[cfg(feature = "ssr")]
    {
        use_context::<std::sync::Arc<crate::config::LoginSettings>>().is_none_or(|l| l.password_login)
    }
    #[cfg(not(feature = "ssr"))]
    {
        true
    }
}

/// The words for a refused sign-in's `sso` code (the codes `oidc::web::Refused` sends).
fn refused_words(code: &str) -> Option<&'static str> {
    Some(match code {
        "expired" => "That sign-in expired or was used already. Start again.",
        "provider" => {
            "Your sign-in provider did not confirm who you are. Start again, or ask your administrator."
        }
        "email_not_verified" => {
            "Your sign-in provider does not say your email address is verified, so no account can be made \
             for it. Verify it there, then sign in again."
        }
        "email_refused" => "Your sign-in provider's email address for you is not one chatpass accepts.",
        "linked_to_another" => {
            "The account with your email address belongs to another user of your sign-in provider."
        }
        _ => return None,
    })
}

/// "Sign in with Acme SSO", back to `next` afterwards; and, after a refused sign-in, why.
#[component]
pub fn SingleSignOn(next: String, refused: Option<String>) -> impl IntoView {
    let why = refused.as_deref().and_then(refused_words);
    let name = provider_name();
    let href = format!("/auth/oidc/start?next={}", urlencoding_path(&next));
    view! {
        {why.map(|why| view! { <p class="error" role="alert">{why}</p> })}
        {name.map(|name| view! {
            <section class="card">
                <a class="button" href=href.clone()>{format!("Sign in with {name}")}</a>
            </section>
        })}
    }
}

/// `next` as a query value: a path on this site, percent-encoded where it must be.
fn urlencoding_path(next: &str) -> String {
    next.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
