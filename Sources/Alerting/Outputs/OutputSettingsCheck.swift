import Zones

/// Checks the `sensor.outputs` of a configuration against what the alert
/// stage offers: each format name against ``AlertFormat/all`` and each
/// syslog URL, with the file, line and column of the mistake; a `tls:` only
/// with a TLS destination, and its files readable.
public enum OutputSettingsCheck {
    public static func errors(_ config: ZoneConfig) -> [ConfigError] {
        var errors: [ConfigError] = []
        for output in config.sensor.outputs {
            if AlertFormat(name: output.format) == nil {
                errors.append(ConfigError(file: config.file, at: output.formatPosition,
                                          "format must be \(AlertFormat.names(AlertFormat.all))"))
            }
            var url: SyslogURL?
            if let text = output.syslog {
                switch SyslogURL.parse(text) {
                case .failure(let e): errors.append(ConfigError(file: config.file, at: output.syslogPosition, "syslog \"\(SyslogURL.redacted(text))\": \(e)"))
                case .success(let u): url = u
                }
            }
            if let tls = output.tls {
                if let url, !url.usesTLS {
                    errors.append(ConfigError(file: config.file, at: tls.position, "tls: applies to tls:// and relp+tls:// destinations only, not \(url)"))
                } else if output.syslog == nil {
                    errors.append(ConfigError(file: config.file, at: tls.position, "tls: belongs to a syslog: tls:// or relp+tls:// output"))
                } else if let problem = settings(output.tls).problem() {
                    errors.append(ConfigError(file: config.file, at: tls.position, "tls: \(problem)"))
                }
            }
        }
        return errors
    }

    /// The TLS settings of an output as the transports take them (defaults where nothing is written).
    public static func settings(_ tls: OutputTLSSetting?) -> TLSSettings {
        TLSSettings(caFile: tls?.ca, certificateFile: tls?.cert, keyFile: tls?.key, peerName: tls?.peerName)
    }
}
