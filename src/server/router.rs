//! The router: pages, server functions, probes, and the layers in order (outermost first:
//! id, body and deadline; trace span; compression; cross-site check and headers; the
//! session layers; login-only pages and error statuses).

use std::sync::Arc;

use axum::{
    extract::Request,
    middleware::{self, Next},
    routing::{get, post},
    Router,
};
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower::ServiceBuilder;
use tower_http::{
    compression::CompressionLayer,
    cors::{AllowOrigin, CorsLayer},
    trace::{DefaultOnResponse, TraceLayer},
};
use tracing::Level;

use super::{
    bound_and_measure::identify_bound_and_measure,
    features::FeatureState,
    probes::{healthz, readyz, Readiness},
    require_login::require_login_and_set_statuses,
};
use crate::{
    app::{shell, App},
    config::Config,
    oidc,
    security::{self, OwnOrigin, SiteSecurity},
    sessions,
    state::AppState,
};

/// The full router: pages, server functions, `/healthz`, static files, and layers.
///
/// Each layer costs every request a clone of what is inside it, so the layers are few:
/// jobs that sit next to each other in the order share one
/// ([`identify_bound_and_measure`], `security::refuse_cross_site_and_set_headers`,
/// [`require_login_and_set_statuses`]), and each group is one `ServiceBuilder`, boxed once per route.
pub(super) fn router(state: AppState, features: FeatureState, config: &Config) -> Router {
    let cors_origins = config.cors_origins.to_vec();
    let site = Arc::new(SiteSecurity {
        own: OwnOrigin(config.public_origin.clone()),
        https: config.is_https(),
        cors_origins: cors_origins.clone(),
    });
    let routes = route_list();
    let (pool, hasher) = (state.pool.clone(), state.hasher.clone());
    let readiness = Readiness {
        pool: pool.clone(),
        mailer: features.mailer.clone(),
        provider: features.provider.clone(),
    };
    let oidc = features
        .provider
        .clone()
        .map(|provider| oidc::OidcRoutes { provider, public_origin: config.public_origin.clone() });
    let password_login = config.login.password_login;
    let proxy_login = config.login.identity_header.as_deref().and_then(|name| {
        Some(crate::proxy_login::ProxyLogin {
            header: axum::http::HeaderName::from_bytes(name.as_bytes()).ok()?,
            proxies: Arc::new(config.trusted_proxies.clone()),
            state: state.clone(),
        })
    });
    // Twilio calls it, without cookies or an origin: outside the session layers, as the probes.
    let twilio_webhook = features.twilio_webhook.clone().map(|hook| {
        Router::new()
            .route(crate::twilio::webhook::PATH, post(crate::twilio::webhook::conversations).with_state(hook))
    });
    // Cloned for every server-function request: two increments.
    let features = Arc::new(features);
    let context = {
        let state = state.clone();
        move || {
            provide_context(state.clone());
            features.provide();
        }
    };
    let timeouts = config.sessions;
    let app = Router::new()
        .leptos_routes_with_context(&state, routes, context, {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .merge(oidc.map(oidc::routes).unwrap_or_default())
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .with_state(state)
        // With `CHATPASS_PASSWORD_LOGIN=off`, every route that takes a password is refused.
        .layer(tower::util::option_layer(
            (!password_login).then(|| middleware::from_fn(refuse_password_routes)),
        ))
        // Inside the session layers: sees the session's user.
        .layer(middleware::from_fn(move |request: Request, next: Next| {
            require_login_and_set_statuses(timeouts, request, next)
        }))
        // Behind an auth proxy, its identity header signs the session in before anything reads it.
        .layer(tower::util::option_layer(proxy_login.map(|proxy| {
            middleware::from_fn_with_state(Arc::new(proxy), crate::proxy_login::sign_in_from_proxy)
        })));
    // The probes sit outside the session layers: they never load a session (a probe
    // that sends a cookie must not need the database to be alive).
    let probes =
        Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz).with_state(readiness));
    sessions::stack(app, &pool, &hasher, config)
        .merge(probes)
        .merge(twilio_webhook.unwrap_or_default())
        .layer(
            ServiceBuilder::new()
                .layer(middleware::from_fn(identify_bound_and_measure))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(|request: &axum::http::Request<_>| {
                            // The path only: query strings and headers (cookies) stay out of logs.
                            // The id is set (and made sane) by `identify_bound_and_measure`, outside.
                            let id = request
                                .headers()
                                .get(security::REQUEST_ID)
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or("");
                            tracing::info_span!(
                                "request",
                                request_id = %id,
                                method = %request.method(),
                                path = %request.uri().path()
                            )
                        })
                        .on_request(())
                        // One line per answer is a large share of a token request's time (make
                        // bench): debug, so `RUST_LOG=info,tower_http=debug` turns it on.
                        // Server errors are still logged (on_failure), and /metrics counts all.
                        .on_response(DefaultOnResponse::new().level(Level::DEBUG)),
                )
                .layer(CompressionLayer::new())
                .layer(middleware::from_fn_with_state(site, security::refuse_cross_site_and_set_headers))
                .option_layer(cors_for_apps(cors_origins)),
        )
}

/// The routes that take a password, refused with 403 when `CHATPASS_PASSWORD_LOGIN=off`
/// (accounts then come only from the provider or the auth proxy).
pub const PASSWORD_ROUTES: &[&str] = &[
    "/api/signup",
    "/api/verify_email",
    "/api/resend_verification",
    "/api/login",
    "/api/forgot_password",
    "/api/reset_password",
    "/api/change_password",
    "/api/device_tokens",
];

async fn refuse_password_routes(request: Request, next: Next) -> axum::response::Response {
    use axum::response::IntoResponse;
    if request.method() == axum::http::Method::POST && PASSWORD_ROUTES.contains(&request.uri().path()) {
        let error = crate::error::AppError::PasswordLoginOff;
        return (axum::http::StatusCode::FORBIDDEN, axum::Json(error)).into_response();
    }
    next.run(request).await
}

/// CORS on the routes apps call, for the origins `CHATPASS_CORS_ORIGINS` lists (none: no
/// layer). Preflights and answers name the asking origin only when it is listed, allow the
/// `Authorization` and `Content-Type` headers, and never credentials: cookies stay same-site.
fn cors_for_apps(origins: Vec<String>) -> Option<CorsLayer> {
    use axum::http::{header, HeaderValue, Method};
    if origins.is_empty() {
        return None;
    }
    let listed: Vec<HeaderValue> = origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
    let allowed = AllowOrigin::predicate(move |origin, parts| {
        security::APP_ROUTES.contains(&parts.uri.path()) && listed.contains(origin)
    });
    Some(
        CorsLayer::new()
            .allow_origin(allowed)
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
            .expose_headers([header::RETRY_AFTER, header::WWW_AUTHENTICATE])
            .max_age(std::time::Duration::from_secs(600)),
    )
}

/// The app's routes, generated once per process. Generating them runs the app with
/// resource loading suppressed by a process-wide flag (leptos_server's
/// `SuppressResourceLoad`): a request of another server in the same process (the
/// integration tests run many) whose resource first polls meanwhile would wait forever
/// (leptos-rs/leptos#4773). Once, before any server of this process serves, avoids that.
fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> = std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}
