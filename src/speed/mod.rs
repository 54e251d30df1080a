//! The plumbing `lint` and `split` stand on to go fast over tens of thousands of files
//! (bench/README.md): the allocator the binary and the benches install, lists kept from
//! one file to the next on a thread, and a thread pool that hands results over in file
//! order. Nothing here knows SQL; the splitter, the lint engine and the report writer use it.

pub mod alloc;
pub(crate) mod in_order;
pub(crate) mod scratch;
