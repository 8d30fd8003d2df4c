//! UDP endpoints over 127.0.0.1: a round trip, ICMP errors, close, bad input.

use std::cell::RefCell;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;

use asyncio::{DatagramProtocol, DatagramTransport};

const BOUND: f64 = 10.0;

async fn until(what: &str, done: impl Fn() -> bool) {
    let waited = asyncio::wait_for(
        async {
            while !done() {
                asyncio::sleep(0.001).await;
            }
        },
        BOUND,
    )
    .await;
    assert!(waited.is_ok(), "timed out waiting for {what}");
}

#[derive(Default)]
struct Echo(Option<DatagramTransport>);

impl DatagramProtocol for Echo {
    fn connection_made(&mut self, t: DatagramTransport) {
        self.0 = Some(t);
    }
    fn datagram_received(&mut self, data: &[u8], addr: SocketAddr) {
        let mut answer = b"echo: ".to_vec();
        answer.extend_from_slice(data);
        self.0.as_ref().unwrap().sendto(answer, Some(addr));
    }
}

#[derive(Default)]
struct Client {
    got: Vec<(Vec<u8>, SocketAddr)>,
    errors: Vec<io::ErrorKind>,
    lost: Vec<Option<io::ErrorKind>>,
}

impl DatagramProtocol for Client {
    fn datagram_received(&mut self, data: &[u8], addr: SocketAddr) {
        self.got.push((data.to_vec(), addr));
    }
    fn error_received(&mut self, exc: io::Error) {
        self.errors.push(exc.kind());
    }
    fn connection_lost(&mut self, exc: Option<io::Error>) {
        self.lost.push(exc.map(|e| e.kind()));
    }
}

#[test]
fn a_udp_round_trip_on_loopback() {
    asyncio::run(async {
        let lp = asyncio::get_running_loop().unwrap();
        let (server, _) = lp
            .create_datagram_endpoint(Echo::default)
            .local_addr(([127, 0, 0, 1], 0))
            .await
            .unwrap();
        let addr = server.sockname().unwrap();
        assert_eq!(server.peername(), None);
        let (client, protocol) = lp
            .create_datagram_endpoint(Client::default)
            .remote_addr(addr)
            .await
            .unwrap();
        assert_eq!(client.peername(), Some(addr));
        for i in 0..3 {
            client.sendto(format!("ping {i}"), None);
        }
        until("three echoes", || protocol.with(|p| p.got.len()) == Some(3)).await;
        let got = protocol.with(|p| p.got.clone()).unwrap();
        for (i, (data, from)) in got.iter().enumerate() {
            assert_eq!(data, format!("echo: ping {i}").as_bytes());
            assert_eq!(*from, addr);
        }
        client.close();
        assert!(client.is_closing());
        until("connection_lost", || protocol.is_lost()).await;
        assert_eq!(protocol.with(|p| p.lost.clone()).unwrap(), [None]);
        server.close();
    });
}

#[test]
fn a_connected_endpoint_hears_port_unreachable_in_error_received() {
    asyncio::run(async {
        let lp = asyncio::get_running_loop().unwrap();
        // A port where nobody listens: bound for a moment, then closed.
        let closed = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let dead = closed.local_addr().unwrap();
        drop(closed);
        let (client, protocol) = lp
            .create_datagram_endpoint(Client::default)
            .remote_addr(dead)
            .await
            .unwrap();
        client.sendto(b"anyone?", None);
        until("error_received", || {
            protocol.with(|p| !p.errors.is_empty()) == Some(true)
        })
        .await;
        assert_eq!(
            protocol.with(|p| p.errors[0]).unwrap(),
            io::ErrorKind::ConnectionRefused
        );
        assert!(
            !client.is_closing(),
            "an ICMP error does not end the endpoint"
        );
        assert!(protocol.with(|p| p.lost.is_empty()).unwrap());
    });
}

#[test]
fn sendto_an_address_the_endpoint_cannot_use_is_reported() {
    asyncio::run(async {
        let lp = asyncio::get_running_loop().unwrap();
        let reports = Rc::new(RefCell::new(Vec::new()));
        let r = reports.clone();
        lp.set_exception_handler(Some(move |ctx: &asyncio::ExceptionContext| {
            r.borrow_mut().push(ctx.message.clone())
        }));
        let peer = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let (connected, _) = lp
            .create_datagram_endpoint(Client::default)
            .remote_addr(peer.local_addr().unwrap())
            .await
            .unwrap();
        connected.sendto(b"x", Some("127.0.0.1:9".parse().unwrap()));
        let (unconnected, _) = lp
            .create_datagram_endpoint(Client::default)
            .local_addr(([127, 0, 0, 1], 0))
            .await
            .unwrap();
        unconnected.sendto(b"x", None);
        let reports = reports.borrow();
        assert_eq!(reports.len(), 2, "{reports:?}");
        assert!(reports[0].contains("Invalid address"), "{reports:?}");
        assert!(reports[1].contains("without remote_addr"), "{reports:?}");
    });
}

#[test]
fn create_datagram_endpoint_refuses_bad_addresses() {
    asyncio::run(async {
        let lp = asyncio::get_running_loop().unwrap();
        let err = lp
            .create_datagram_endpoint(Client::default)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        let err = lp
            .create_datagram_endpoint(Client::default)
            .local_addr(([127, 0, 0, 1], 0))
            .remote_addr("[::1]:9".parse::<SocketAddr>().unwrap())
            .await
            .unwrap_err();
        assert!(err.to_string().contains("different families"), "{err}");
        let taken = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let err = lp
            .create_datagram_endpoint(Client::default)
            .local_addr(taken.local_addr().unwrap())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse, "{err}");
    });
}

#[test]
fn a_panicking_datagram_received_closes_only_that_endpoint() {
    struct Fragile(Rc<RefCell<Vec<String>>>);
    impl DatagramProtocol for Fragile {
        fn datagram_received(&mut self, _data: &[u8], _addr: SocketAddr) {
            panic!("cannot parse");
        }
        fn connection_lost(&mut self, exc: Option<io::Error>) {
            self.0
                .borrow_mut()
                .push(exc.map(|e| e.to_string()).unwrap_or_default());
        }
    }
    asyncio::run(async {
        let lp = asyncio::get_running_loop().unwrap();
        let reports = Rc::new(RefCell::new(Vec::new()));
        let r = reports.clone();
        lp.set_exception_handler(Some(move |ctx: &asyncio::ExceptionContext| {
            r.borrow_mut().push(ctx.message.clone())
        }));
        let lost = Rc::new(RefCell::new(Vec::new()));
        let l = lost.clone();
        let (fragile, _) = lp
            .create_datagram_endpoint(move || Fragile(l))
            .local_addr(([127, 0, 0, 1], 0))
            .await
            .unwrap();
        let (echo, _) = lp
            .create_datagram_endpoint(Echo::default)
            .local_addr(([127, 0, 0, 1], 0))
            .await
            .unwrap();
        let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_nonblocking(true).unwrap();
        lp.sock_sendto(&sock, b"x", fragile.sockname().unwrap())
            .await
            .unwrap();
        until("connection_lost", || !lost.borrow().is_empty()).await;
        assert!(lost.borrow()[0].contains("panicked: cannot parse"));
        assert!(reports.borrow()[0].contains("protocol.datagram_received()"));
        lp.sock_sendto(&sock, b"y", echo.sockname().unwrap())
            .await
            .unwrap();
        let (data, _) = asyncio::wait_for(lp.sock_recvfrom(&sock, 100), BOUND)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(data, b"echo: y", "the other endpoint still serves");
    });
}
