import Zones

/// Checks the `sensor.outputs` of a configuration against what the alert
/// stage offers: each format name against ``AlertFormat/all`` and each
/// syslog URL, with the file, line and column of the mistake.
public enum OutputSettingsCheck {
    public static func errors(_ config: ZoneConfig) -> [ConfigError] {
        var errors: [ConfigError] = []
        for output in config.sensor.outputs {
            if AlertFormat(name: output.format) == nil {
                errors.append(ConfigError(file: config.file, at: output.formatPosition,
                                          "format must be \(AlertFormat.names(AlertFormat.all))"))
            }
            if let url = output.syslog, case .failure(let e) = SyslogURL.parse(url) {
                errors.append(ConfigError(file: config.file, at: output.syslogPosition, "syslog \"\(url)\": \(e)"))
            }
        }
        return errors
    }
}
