//! Who is at the other end of a loopback TCP connection: the user that owns the peer's socket.
//!
//! On Linux the kernel is asked once per connection, through a `sock_diag` netlink socket
//! (`NETLINK_SOCK_DIAG`, as `ss` asks it): one `SOCK_DIAG_BY_FAMILY` request for the TCP socket
//! whose local address is the connection's peer address and whose remote address is ours. The
//! answer's `idiag_uid` is the socket's owner. The lookup is exact (by addresses and ports), so
//! it costs the same however many sockets the machine holds. A socket of an IPv6 client
//! connected to `::ffff:127.0.0.1` is found by the same IPv4 lookup.
//!
//! When the kernel does not answer (another system, no `sock_diag`, a sandbox that forbids
//! netlink), the owner is [`Owner::Unknown`], and the caller decides what that means.

use std::net::{SocketAddr, TcpStream};

/// The owner of the socket at the other end of a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    /// The peer's socket belongs to this user id.
    Uid(u32),
    /// The peer's socket no longer exists, though the kernel answers about ours.
    Gone,
    /// The kernel cannot be asked here.
    Unknown,
}

/// The owner of the peer's end of `stream`, a TCP connection over an IPv4 loopback address.
pub fn owner(stream: &TcpStream) -> Owner {
    let (Ok(ours), Ok(theirs)) = (stream.local_addr(), stream.peer_addr()) else {
        return Owner::Unknown;
    };
    match socket_uid(theirs, ours) {
        Lookup::Found(uid) => Owner::Uid(uid),
        // Not found: either the peer has gone, or the kernel cannot find sockets at all here.
        Lookup::NotFound if matches!(socket_uid(ours, theirs), Lookup::Found(_)) => Owner::Gone,
        Lookup::NotFound | Lookup::Failed => Owner::Unknown,
    }
}

/// What the kernel said of one socket.
enum Lookup {
    Found(u32),
    NotFound,
    Failed,
}

/// The uid owning the TCP socket bound to `local` and connected to `remote`, both IPv4.
#[cfg(target_os = "linux")]
fn socket_uid(local: SocketAddr, remote: SocketAddr) -> Lookup {
    let (SocketAddr::V4(local), SocketAddr::V4(remote)) = (local, remote) else {
        return Lookup::Failed;
    };
    diag::ask(&diag::request(local, remote)).unwrap_or(Lookup::Failed)
}

#[cfg(not(target_os = "linux"))]
fn socket_uid(_local: SocketAddr, _remote: SocketAddr) -> Lookup {
    Lookup::Failed
}

/// The `sock_diag` netlink exchange, byte by byte (`linux/netlink.h`, `linux/sock_diag.h`,
/// `linux/inet_diag.h`).
#[cfg(target_os = "linux")]
mod diag {
    use super::Lookup;
    use std::io;
    use std::net::SocketAddrV4;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

    /// `SOCK_DIAG_BY_FAMILY`, the message type of a request and of its answer.
    const SOCK_DIAG_BY_FAMILY: u16 = 20;
    /// A header (16 bytes) and an `inet_diag_req_v2` (56 bytes).
    const REQUEST_LEN: usize = 72;
    /// Where `idiag_uid` lies in an answer: after the header (16) and 64 bytes of
    /// `inet_diag_msg` (family, state, timer, retrans, the 48-byte socket id, expires, rqueue,
    /// wqueue).
    const UID_AT: usize = 80;

    /// An `inet_diag_req_v2` for the one TCP socket bound to `local` and connected to `remote`,
    /// in any state, with no cookie to match.
    pub(super) fn request(local: SocketAddrV4, remote: SocketAddrV4) -> [u8; REQUEST_LEN] {
        let mut req = [0u8; REQUEST_LEN];
        req[0..4].copy_from_slice(&(REQUEST_LEN as u32).to_ne_bytes());
        req[4..6].copy_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
        req[6..8].copy_from_slice(&(libc::NLM_F_REQUEST as u16).to_ne_bytes());
        req[8..12].copy_from_slice(&1u32.to_ne_bytes());
        req[16] = libc::AF_INET as u8;
        req[17] = libc::IPPROTO_TCP as u8;
        req[20..24].copy_from_slice(&u32::MAX.to_ne_bytes());
        req[24..26].copy_from_slice(&local.port().to_be_bytes());
        req[26..28].copy_from_slice(&remote.port().to_be_bytes());
        req[28..32].copy_from_slice(&local.ip().octets());
        req[44..48].copy_from_slice(&remote.ip().octets());
        // The interface (60..64) is any; the cookie (64..72) is INET_DIAG_NOCOOKIE.
        req[64..72].fill(0xff);
        req
    }

    /// Sends `request` to the kernel and reads its one answer.
    pub(super) fn ask(request: &[u8]) -> io::Result<Lookup> {
        let socket = open()?;
        let fd = socket.as_raw_fd();
        // SAFETY: `fd` is an open socket; the pointer and length describe `request`.
        let sent = unsafe { libc::send(fd, request.as_ptr().cast(), request.len(), 0) };
        if sent < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut answer = [0u8; 512];
        // SAFETY: `fd` is an open socket; the pointer and length describe `answer`.
        let got = unsafe { libc::recv(fd, answer.as_mut_ptr().cast(), answer.len(), 0) };
        if got < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(read_answer(&answer[..got as usize]))
    }

    /// A netlink socket for `sock_diag`, connected to the kernel, that waits at most a second.
    fn open() -> io::Result<OwnedFd> {
        // SAFETY: plain socket creation; the result is checked.
        let fd = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
                libc::NETLINK_SOCK_DIAG,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` was just opened and is owned by nothing else.
        let socket = unsafe { OwnedFd::from_raw_fd(fd) };
        let timeout = libc::timeval {
            tv_sec: 1,
            tv_usec: 0,
        };
        // SAFETY: the option value is a `timeval` of the size given.
        let set = unsafe {
            libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                (&raw const timeout).cast(),
                std::mem::size_of::<libc::timeval>() as libc::socklen_t,
            )
        };
        // SAFETY: an all-zero `sockaddr_nl` with its family set is the kernel's address.
        let mut kernel: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        kernel.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        // SAFETY: the address is a `sockaddr_nl` of the size given.
        let connected = unsafe {
            libc::connect(
                fd,
                (&raw const kernel).cast(),
                std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
            )
        };
        if set < 0 || connected < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(socket)
    }

    /// The uid in a `SOCK_DIAG_BY_FAMILY` answer, `NotFound` for an `ENOENT` error, else
    /// `Failed`.
    pub(super) fn read_answer(answer: &[u8]) -> Lookup {
        let u16_at = |at: usize| {
            answer
                .get(at..at + 2)
                .map(|b| u16::from_ne_bytes([b[0], b[1]]))
        };
        let u32_at = |at: usize| {
            answer
                .get(at..at + 4)
                .map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
        };
        match u16_at(4) {
            Some(SOCK_DIAG_BY_FAMILY) => u32_at(UID_AT).map_or(Lookup::Failed, Lookup::Found),
            Some(kind) if i32::from(kind) == libc::NLMSG_ERROR => {
                match u32_at(16).map(|e| e as i32) {
                    Some(e) if e == -libc::ENOENT => Lookup::NotFound,
                    _ => Lookup::Failed,
                }
            }
            _ => Lookup::Failed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// A connection to a fresh listener, from `connect`, and the accepted end.
    fn accepted(connect: impl FnOnce(u16)) -> TcpStream {
        let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap();
        connect(listener.local_addr().unwrap().port());
        listener.accept().unwrap().0
    }

    #[test]
    fn a_connection_of_ours_is_ours() {
        let mut client = None;
        let stream =
            accepted(|port| client = Some(TcpStream::connect(("127.0.0.1", port)).unwrap()));
        assert_eq!(owner(&stream), Owner::Uid(crate::fsutil::my_uid()));
        drop(client);
    }

    #[test]
    fn an_ipv6_client_on_the_mapped_address_is_found() {
        let mut client = None;
        let stream = accepted(|port| {
            client = Some(TcpStream::connect(format!("[::ffff:127.0.0.1]:{port}")).unwrap())
        });
        assert_eq!(owner(&stream), Owner::Uid(crate::fsutil::my_uid()));
        drop(client);
    }

    #[test]
    fn another_users_connection_is_theirs() {
        if crate::fsutil::my_uid() != 0 {
            return; // Only root can connect as another user.
        }
        use std::os::unix::process::CommandExt as _;
        let mut child = None;
        let stream = accepted(|port| {
            child = Some(
                std::process::Command::new("bash")
                    .args([
                        "-c",
                        &format!("exec 3<>/dev/tcp/127.0.0.1/{port}; read -t 10 <&3"),
                    ])
                    .uid(65534)
                    .gid(65534)
                    .spawn()
                    .unwrap(),
            );
        });
        assert_eq!(owner(&stream), Owner::Uid(65534));
        drop(stream);
        child.unwrap().wait().unwrap();
    }

    #[test]
    fn answers_are_read_by_their_type() {
        let header = |kind: u16, body: &[u8]| {
            let mut m = vec![0u8; 16];
            m[4..6].copy_from_slice(&kind.to_ne_bytes());
            m.extend_from_slice(body);
            m
        };
        let mut msg = vec![0u8; 72];
        msg[64..68].copy_from_slice(&1234u32.to_ne_bytes());
        assert!(matches!(
            diag::read_answer(&header(20, &msg)),
            Lookup::Found(1234)
        ));
        let error = |e: i32| header(2, &(-e).to_ne_bytes());
        assert!(matches!(
            diag::read_answer(&error(libc::ENOENT)),
            Lookup::NotFound
        ));
        assert!(matches!(
            diag::read_answer(&error(libc::EPERM)),
            Lookup::Failed
        ));
        assert!(matches!(
            diag::read_answer(&header(20, &[0; 8])),
            Lookup::Failed
        ));
        assert!(matches!(diag::read_answer(&[]), Lookup::Failed));
    }
}
