//! What wakes a sleeping task: the clock ([`clock`]) and the hierarchical timer wheel
//! ([`wheel`]).

pub(crate) mod clock;
pub(crate) mod wheel;
