//! The Lives popup (key `O`): the hub's lives with their state and times.
