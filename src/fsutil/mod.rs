//! How herald touches files, in one place.
//!
//! herald is one thread serving every BGP session: a `read(2)` that never
//! returns (a FIFO where the configuration should be, a hung NFS mount)
//! would stop its keepalives, and the routers would drop every route when
//! their hold timers expire. And herald often runs as root, so a file it
//! creates where another user can plant a symlink would let that user
//! overwrite any file on the host. Hence three rules, one module each:
//!
//! * [`read`]: a file herald reads (configuration, TCP MD5 key, CA
//!   bundle, state) is a regular file of bounded size, or an error saying
//!   what it is instead; opening never waits for a FIFO's writer.
//! * [`mod@off_loop`]: file work the daemon does while it runs happens on a
//!   thread of its own, under a deadline, so that the event loop only
//!   ever waits on a channel.
//! * [`create`]: a file herald creates is created with `O_EXCL |
//!   O_NOFOLLOW`: never through a symlink, never into an existing file.

pub mod create;
pub mod off_loop;
pub mod read;

pub use create::{create_new, open_lock_file};
pub use off_loop::{off_loop, Pending, Stalled};
pub use read::read_regular;
