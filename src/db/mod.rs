//! Everything that talks to PostgreSQL. (The connection strategy, retry executor and the
//! migration lock land here with `apply`.)

pub mod fingerprint;
