//! cnosdb-migrate
