//! Socket options of a BGP session that neither std, tokio nor socket2
//! offers: TCP MD5 signatures (RFC 2385) and the minimum TTL of received
//! packets (GTSM, RFC 5082).
//!
//! This is the only module with `unsafe` code. Each unsafe block is one
//! `setsockopt(2)` call on a socket the caller owns, with a value that
//! lives across the call and whose size is passed with it.
#![allow(unsafe_code)]

use std::io;
use std::mem::size_of;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, RawFd};

use socket2::SockRef;

/// Longest key the kernel accepts (TCP_MD5SIG_MAXKEYLEN).
pub const MD5_MAX_KEY_LEN: usize = 80;
/// The TTL GTSM sends and requires from a directly connected peer
/// (RFC 5082 §3).
pub const GTSM_TTL: u8 = 255;

/// The kernel's `struct tcp_md5sig` (linux/tcp.h).
#[repr(C)]
struct TcpMd5Sig {
    addr: SockaddrStorage,
    flags: u8,
    prefix_len: u8,
    key_len: u16,
    ifindex: libc::c_int,
    key: [u8; MD5_MAX_KEY_LEN],
}

/// `struct sockaddr_storage`: 128 bytes, 8-byte aligned, holding a
/// `sockaddr_in` or `sockaddr_in6` (ip(7), ipv6(7)).
#[repr(C, align(8))]
struct SockaddrStorage([u8; 128]);

impl SockaddrStorage {
    fn of(address: SocketAddr) -> SockaddrStorage {
        let mut bytes = [0u8; 128];
        // Family in host order, port and address in network order.
        let (family, port, ip): (libc::sa_family_t, u16, Vec<u8>) = match address {
            SocketAddr::V4(a) => (libc::AF_INET as _, a.port(), a.ip().octets().to_vec()),
            // sockaddr_in6 has the 4-byte flow info before the address.
            SocketAddr::V6(a) => {
                let mut ip = a.flowinfo().to_be_bytes().to_vec();
                ip.extend_from_slice(&a.ip().octets());
                ip.extend_from_slice(&a.scope_id().to_ne_bytes());
                (libc::AF_INET6 as _, a.port(), ip)
            }
        };
        let fields = family
            .to_ne_bytes()
            .into_iter()
            .chain(port.to_be_bytes())
            .chain(ip);
        for (slot, byte) in bytes.iter_mut().zip(fields) {
            *slot = byte;
        }
        SockaddrStorage(bytes)
    }
}

/// Signs every segment to and from `peer` with `key` (RFC 2385). Must be
/// set before `connect`, so that the SYN is signed too.
pub fn set_md5_key(socket: &impl AsRawFd, peer: SocketAddr, key: &[u8]) -> io::Result<()> {
    let mut sig = TcpMd5Sig {
        addr: SockaddrStorage::of(peer),
        flags: 0,
        prefix_len: 0,
        key_len: 0,
        ifindex: 0,
        key: [0; MD5_MAX_KEY_LEN],
    };
    let slot = sig
        .key
        .get_mut(..key.len())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "TCP MD5 key too long"))?;
    slot.copy_from_slice(key);
    // The length fits: it is at most MD5_MAX_KEY_LEN (80).
    sig.key_len = key.len() as u16;
    setsockopt(
        socket.as_raw_fd(),
        libc::IPPROTO_TCP,
        libc::TCP_MD5SIG,
        &sig,
    )
}

/// Sets the TTL (IPv6: hop limit) of outgoing packets.
pub fn set_ttl(socket: &impl std::os::fd::AsFd, peer: SocketAddr, ttl: u8) -> io::Result<()> {
    let socket = SockRef::from(socket);
    match peer {
        SocketAddr::V4(_) => socket.set_ttl_v4(u32::from(ttl)),
        SocketAddr::V6(_) => socket.set_unicast_hops_v6(u32::from(ttl)),
    }
}

/// Drops received packets whose TTL (hop limit) is below `min` (RFC 5082
/// §3: 255 for a directly connected peer).
pub fn set_min_ttl(socket: &impl AsRawFd, peer: SocketAddr, min: u8) -> io::Result<()> {
    let value = libc::c_int::from(min);
    match peer {
        SocketAddr::V4(_) => setsockopt(
            socket.as_raw_fd(),
            libc::IPPROTO_IP,
            libc::IP_MINTTL,
            &value,
        ),
        SocketAddr::V6(_) => setsockopt(
            socket.as_raw_fd(),
            libc::IPPROTO_IPV6,
            libc::IPV6_MINHOPCOUNT,
            &value,
        ),
    }
}

fn setsockopt<T>(fd: RawFd, level: libc::c_int, name: libc::c_int, value: &T) -> io::Result<()> {
    // The size of any option value used here is a few hundred bytes at
    // most, far within socklen_t.
    let len = size_of::<T>() as libc::socklen_t;
    // SAFETY: `fd` is an open socket borrowed from the caller for the
    // duration of the call; `value` points to a live, initialised `T` of
    // exactly `len` bytes, which the kernel only reads.
    let rc = unsafe { libc::setsockopt(fd, level, name, (value as *const T).cast(), len) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv4_address_is_laid_out_as_sockaddr_in() {
        let storage = SockaddrStorage::of("198.51.100.1:179".parse().unwrap());
        let family = (libc::AF_INET as libc::sa_family_t).to_ne_bytes();
        assert_eq!(storage.0[..2], family);
        assert_eq!(storage.0[2..8], [0, 179, 198, 51, 100, 1]);
        assert!(storage.0[8..].iter().all(|b| *b == 0));
    }

    #[test]
    fn an_ipv6_address_is_laid_out_as_sockaddr_in6() {
        let storage = SockaddrStorage::of("[2001:db8::1]:179".parse().unwrap());
        let family = (libc::AF_INET6 as libc::sa_family_t).to_ne_bytes();
        assert_eq!(storage.0[..2], family);
        assert_eq!(storage.0[2..4], [0, 179]);
        assert_eq!(storage.0[4..8], [0, 0, 0, 0], "flow info");
        assert_eq!(storage.0[8..10], [0x20, 0x01]);
        assert_eq!(storage.0[23], 1);
        assert_eq!(storage.0[24..28], [0, 0, 0, 0], "scope id");
    }

    #[test]
    fn the_md5_structure_has_the_kernel_size() {
        // 128 (address) + 1 + 1 + 2 + 4 + 80 (key), as in linux/tcp.h.
        assert_eq!(size_of::<TcpMd5Sig>(), 216);
    }

    #[test]
    fn an_over_long_key_is_refused_before_the_kernel_sees_it() {
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let err = set_md5_key(&socket, "127.0.0.1:179".parse().unwrap(), &[1; 81]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }
}
