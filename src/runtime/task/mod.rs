//! What a task is: its identity ([`id`]), its waker ([`waker`]) and its storage ([`cell`]).

pub(crate) mod cell;
pub(crate) mod id;
pub(crate) mod waker;
