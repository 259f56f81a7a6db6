import Decode
import Vocabulary

/// The local syslog socket (`unix:///dev/log`): `<PRI>Mmm dd hh:mm:ss
/// zonewarden[PID]: RULE sid=.. MESSAGE`, as syslog(3) writes it: RFC 3164
/// without the HOSTNAME field (the local daemon adds its own), which rsyslog's
/// imuxsock and systemd-journald parse into program name, PID and message.
/// The network formats sent there are misread (rsyslog takes the `1` of RFC
/// 5424 for the program name). At most 1,024 bytes, cut as RFC 3164 is.
enum LocalSyslogFormatter: AlertFormatter {
    static let name = "local"
    static let summary = "the local syslog socket's form (RFC 3164 without the host name), which unix:// destinations always get"
    static let isSyslog = true

    static func format(_ a: Alert, context: FormatContext, into out: inout OutputBuffer) {
        RFC3164Formatter.format(a, context: context, hostname: false, into: &out)
    }
}
