//! What a task is: its identity ([`id`]), its waker ([`waker`]) and its storage ([`cell`]); sets of
//! tasks awaited together ([`finished`]).

pub(crate) mod cell;
pub(crate) mod finished;
pub(crate) mod id;
pub(crate) mod rc;
pub(crate) mod waker;
