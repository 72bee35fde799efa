//! authgate's domain: the rules that hold whatever the transport or the database.
//! Nothing here speaks HTTP or SQL.

pub mod argon2_memory;
pub mod audit;
pub mod clock;
pub mod duration;
pub mod failure_limit;
pub mod model;
pub mod password;
pub mod phone;
pub mod secret_box;
pub mod text;
pub mod token_policy;
