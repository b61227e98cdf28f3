//! What keeps requests and answers safe, one concern per file: the cross-site check, the
//! security headers and CSP, the layer that applies both, the request id, unguessable
//! random values, and the signed error of a form posted without JavaScript.

mod cross_site;
pub mod form_error;
mod headers;
mod layer;
mod random;
mod request_id;

pub use cross_site::{cross_site_reason, OwnOrigin, APP_ROUTES};
pub use headers::page_csp;
pub use layer::{refuse_cross_site_and_set_headers, SiteSecurity};
pub use random::{hex, random_hex};
pub use request_id::{request_id, REQUEST_ID};
