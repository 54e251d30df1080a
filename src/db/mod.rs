//! Everything that talks to PostgreSQL: where to connect (connection strategy, TLS), how
//! errors are classified for retries, the migration lock, and fingerprint evaluation.

pub mod connect;
pub mod connect_policy;
pub mod errors;
pub mod fingerprint;
pub mod lock;
pub mod pgpass;
pub mod quote;
pub mod recreate;
pub mod session_attrs;
