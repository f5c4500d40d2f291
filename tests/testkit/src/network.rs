//! Network calls seen by `strace`: Kuager opens no connection beyond this machine (R10).

/// The lines of an `strace -e trace=%network` log that reach beyond loopback.
pub fn foreign_network_calls(log: &str) -> Vec<String> {
    log.lines()
        .filter(|l| l.contains("AF_INET"))
        .filter(|l| {
            !(l.contains("inet_addr(\"127.0.0.1\")")
                || l.contains("inet_pton(AF_INET6, \"::1\"")
                || l.contains("\"::ffff:127.0.0.1\""))
        })
        .filter(|l| {
            ["connect(", "sendto(", "sendmsg(", "bind("]
                .iter()
                .any(|c| l.contains(c))
        })
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_connection_beyond_loopback_is_reported_and_loopback_is_not() {
        let log = r#"101 socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0) = 3
101 connect(3, {sa_family=AF_UNIX, sun_path="/run/user/0/bus"}, 110) = 0
102 connect(7, {sa_family=AF_INET, sin_port=htons(41233), sin_addr=inet_addr("127.0.0.1")}, 16) = 0
103 connect(9, {sa_family=AF_INET, sin_port=htons(443), sin_addr=inet_addr("93.184.216.34")}, 16) = -1 ENETUNREACH
104 sendto(5, "\x12\x34", 30, MSG_NOSIGNAL, {sa_family=AF_INET6, sin6_port=htons(53), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "2001:4860:4860::8888", &sin6_addr), sin6_scope_id=0}, 28) = 30"#;
        let found = super::foreign_network_calls(log);
        assert_eq!(found.len(), 2, "{found:#?}");
        assert!(found[0].contains("93.184.216.34") && found[1].contains("htons(53)"));
    }
}
