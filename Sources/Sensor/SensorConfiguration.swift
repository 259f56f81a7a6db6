import Alerting
import Detect
import Zones

/// The checks every stage makes of a configuration beyond what the loader
/// reads: the rule overrides against the rule catalogue (detect) and the
/// outputs against the formats and syslog transports (alert). `check-config`,
/// the start of `analyze`/`run` and a reload all call this.
public enum SensorConfiguration {
    /// - Throws: every mistake, with its file, line and column.
    public static func validate(_ zones: ZoneMap) throws(ConfigErrors) {
        var errors: [ConfigError] = []
        do throws(ConfigErrors) {
            _ = try Detector(zones: zones)
        } catch {
            errors += error.errors
        }
        do throws(ConfigErrors) {
            _ = try AlertExceptions(zones)
        } catch {
            errors += error.errors
        }
        errors += OutputSettingsCheck.errors(zones.config)
        if !errors.isEmpty { throw ConfigErrors(errors) }
    }
}
