//! Socket options and calls that neither std, tokio nor socket2 offers:
//! TCP MD5 signatures (RFC 2385) and the minimum TTL of received packets
//! (GTSM, RFC 5082) for BGP, and for BFD the TTL each UDP datagram arrived
//! with (RFC 5881 §5).
//!
//! This is the only module with `unsafe` code. Each unsafe block is one
//! `setsockopt(2)` or `recvmsg(2)` call on a socket the caller owns, with
//! buffers that live across the call and whose sizes are passed with them.
#![allow(unsafe_code)]

use std::io;
use std::mem::size_of;
use std::net::{SocketAddr, SocketAddrV4, SocketAddrV6};
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

    /// The address the kernel wrote, read back by the layout of
    /// [`SockaddrStorage::of`]; `None` for a family other than IP.
    fn to_socket_addr(&self) -> Option<SocketAddr> {
        let bytes = &self.0;
        let family = libc::sa_family_t::from_ne_bytes(array(bytes, 0)?);
        let port = u16::from_be_bytes(array(bytes, 2)?);
        match libc::c_int::from(family) {
            libc::AF_INET => {
                let ip: [u8; 4] = array(bytes, 4)?;
                Some(SocketAddrV4::new(ip.into(), port).into())
            }
            libc::AF_INET6 => {
                let flowinfo = u32::from_be_bytes(array(bytes, 4)?);
                let ip: [u8; 16] = array(bytes, 8)?;
                let scope_id = u32::from_ne_bytes(array(bytes, 24)?);
                Some(SocketAddrV6::new(ip.into(), port, flowinfo, scope_id).into())
            }
            _ => None,
        }
    }
}

/// `N` bytes of `bytes` from `at`, if there are that many.
fn array<const N: usize>(bytes: &[u8], at: usize) -> Option<[u8; N]> {
    bytes.get(at..at.checked_add(N)?)?.try_into().ok()
}

/// Room for the control messages of one datagram: herald asks for one,
/// the TTL, whose header and `int` take 20 bytes.
const CONTROL_SPACE: usize = 64;

/// A `recvmsg(2)` control buffer, aligned for `struct cmsghdr`.
#[repr(C, align(8))]
struct ControlBuffer([u8; CONTROL_SPACE]);

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

/// Asks the kernel to report the TTL (IPv6: hop limit) each datagram
/// arrives with, for [`recv_with_ttl`]. `local` gives the socket's family.
///
/// UDP needs this because Linux applies `IP_MINTTL` and
/// `IPV6_MINHOPCOUNT` ([`set_min_ttl`]) to TCP only.
pub fn set_recv_ttl(socket: &impl AsRawFd, local: SocketAddr) -> io::Result<()> {
    let on: libc::c_int = 1;
    match local {
        SocketAddr::V4(_) => {
            setsockopt(socket.as_raw_fd(), libc::IPPROTO_IP, libc::IP_RECVTTL, &on)
        }
        SocketAddr::V6(_) => setsockopt(
            socket.as_raw_fd(),
            libc::IPPROTO_IPV6,
            libc::IPV6_RECVHOPLIMIT,
            &on,
        ),
    }
}

/// One datagram taken by [`recv_with_ttl`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Datagram {
    /// Bytes written to the buffer (a longer datagram is cut to fit).
    pub len: usize,
    /// Where it came from.
    pub source: SocketAddr,
    /// The TTL (hop limit) it arrived with; `None` unless
    /// [`set_recv_ttl`] was called on the socket.
    pub ttl: Option<u8>,
}

/// Receives one datagram into `buf`, with its source and the TTL it
/// arrived with. On a non-blocking socket with nothing queued this fails
/// with [`io::ErrorKind::WouldBlock`], as `recvmsg(2)` does.
pub fn recv_with_ttl(socket: &impl AsRawFd, buf: &mut [u8]) -> io::Result<Datagram> {
    let mut name = SockaddrStorage([0; 128]);
    let mut control = ControlBuffer([0; CONTROL_SPACE]);
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: `msghdr` is plain data for which all zeroes is valid; it is
    // zeroed rather than written out because some C libraries give it
    // private padding fields.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_name = (&raw mut name).cast();
    msg.msg_namelen = convert(size_of::<SockaddrStorage>());
    msg.msg_iov = &raw mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = (&raw mut control).cast();
    msg.msg_controllen = convert(CONTROL_SPACE);
    // SAFETY: `socket` is open and borrowed for the call; `msg` points to
    // the name, data and control buffers above, each live, writable and
    // of exactly the length given next to it, and the kernel writes
    // within those lengths only.
    let received = unsafe { libc::recvmsg(socket.as_raw_fd(), &raw mut msg, 0) };
    if received < 0 {
        return Err(io::Error::last_os_error());
    }
    let source = name.to_socket_addr().ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidData, "datagram from a non-IP address")
    })?;
    let control_len = convert::<usize, _>(msg.msg_controllen).min(CONTROL_SPACE);
    Ok(Datagram {
        len: convert::<usize, _>(received).min(buf.len()),
        source,
        ttl: control_ttl(control.0.get(..control_len).unwrap_or_default()),
    })
}

/// Between the integer types of C structures, which differ by C library;
/// a value that does not fit becomes zero (never the case for the sizes
/// used here).
fn convert<T: TryFrom<U> + Default, U>(value: U) -> T {
    T::try_from(value).unwrap_or_default()
}

/// The IP_TTL or IPV6_HOPLIMIT value among the control messages of a
/// datagram (cmsg(3)). Each message is a `struct cmsghdr` (length, level,
/// type) followed by its data, and starts at a multiple of the alignment
/// of `size_t`, which is also the kernel's type for the length.
fn control_ttl(mut control: &[u8]) -> Option<u8> {
    const WORD: usize = size_of::<usize>();
    let align = |n: usize| n.div_ceil(WORD).checked_mul(WORD);
    let header = align(size_of::<libc::cmsghdr>())?;
    while control.len() >= header {
        let len = usize::from_ne_bytes(array(control, 0)?);
        let level = libc::c_int::from_ne_bytes(array(control, WORD)?);
        let kind = libc::c_int::from_ne_bytes(array(control, WORD + 4)?);
        let data = control.get(header..len)?;
        let is_ttl = (level == libc::IPPROTO_IP && kind == libc::IP_TTL)
            || (level == libc::IPPROTO_IPV6 && kind == libc::IPV6_HOPLIMIT);
        if is_ttl {
            return u8::try_from(libc::c_int::from_ne_bytes(array(data, 0)?)).ok();
        }
        control = control.get(align(len)?..).unwrap_or_default();
    }
    None
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
    fn an_address_is_read_back_as_it_was_laid_out() {
        for text in ["198.51.100.1:3784", "[2001:db8::1]:49152"] {
            let address: SocketAddr = text.parse().unwrap();
            assert_eq!(SockaddrStorage::of(address).to_socket_addr(), Some(address));
        }
        assert_eq!(SockaddrStorage([0; 128]).to_socket_addr(), None);
    }

    /// Sends one datagram with `ttl` from a new socket to `to`.
    fn send_with_ttl(to: SocketAddr, ttl: u8) -> SocketAddr {
        let bind = if to.is_ipv4() {
            "127.0.0.1:0"
        } else {
            "[::1]:0"
        };
        let sender = std::net::UdpSocket::bind(bind).unwrap();
        set_ttl(&sender, to, ttl).unwrap();
        sender.send_to(b"ttl", to).unwrap();
        sender.local_addr().unwrap()
    }

    #[test]
    fn the_ttl_of_each_datagram_is_reported_for_both_families() {
        for bind in ["127.0.0.1:0", "[::1]:0"] {
            let Ok(receiver) = std::net::UdpSocket::bind(bind) else {
                // IPv6 may be disabled on the test machine.
                continue;
            };
            let local = receiver.local_addr().unwrap();
            set_recv_ttl(&receiver, local).unwrap();
            for ttl in [254, 255] {
                let from = send_with_ttl(local, ttl);
                let mut buf = [0; 16];
                let got = recv_with_ttl(&receiver, &mut buf).unwrap();
                assert_eq!((got.len, got.source, got.ttl), (3, from, Some(ttl)));
                assert_eq!(&buf[..3], b"ttl");
            }
        }
    }

    #[test]
    fn without_asking_no_ttl_is_reported() {
        let receiver = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let local = receiver.local_addr().unwrap();
        send_with_ttl(local, 255);
        let got = recv_with_ttl(&receiver, &mut [0; 16]).unwrap();
        assert_eq!(got.ttl, None);
    }

    #[test]
    fn a_datagram_longer_than_the_buffer_is_cut_to_fit() {
        let receiver = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let local = receiver.local_addr().unwrap();
        send_with_ttl(local, 255);
        let got = recv_with_ttl(&receiver, &mut [0; 2]).unwrap();
        assert_eq!(got.len, 2);
    }

    #[test]
    fn an_empty_queue_on_a_non_blocking_socket_would_block() {
        let receiver = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        receiver.set_nonblocking(true).unwrap();
        let err = recv_with_ttl(&receiver, &mut [0; 16]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
    }

    #[test]
    fn malformed_control_messages_yield_no_ttl() {
        let word = size_of::<usize>();
        assert_eq!(control_ttl(&[]), None);
        assert_eq!(control_ttl(&[0; 64]), None, "a zero length");
        let mut huge = vec![0xff; word];
        huge.resize(64, 0);
        assert_eq!(control_ttl(&huge), None, "a length past the end");
        let mut other = 20usize.to_ne_bytes().to_vec();
        other.extend_from_slice(&libc::SOL_SOCKET.to_ne_bytes());
        other.extend_from_slice(&1i32.to_ne_bytes());
        other.extend_from_slice(&64i32.to_ne_bytes());
        assert_eq!(control_ttl(&other), None, "another option only");
    }

    #[test]
    fn an_over_long_key_is_refused_before_the_kernel_sees_it() {
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let err = set_md5_key(&socket, "127.0.0.1:179".parse().unwrap(), &[1; 81]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }
}
