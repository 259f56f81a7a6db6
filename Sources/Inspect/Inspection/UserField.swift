/// Keeps secrets out of the user names the sensor reports. What stands where
/// a user name belongs is sometimes the secret itself:
///
/// - `name:secret` (FTP `USER root:pw`, a URL's user information): the part
///   before the first colon is the user, the rest a secret;
/// - a token as the user with an empty password (`curl -u TOKEN:`, HTTP Basic
///   with API tokens), and anything shaped like a token whatever the
///   password: at least 24 characters without spaces, `@`, `\`, `=` or `,`
///   (so not an e-mail address, `DOMAIN\user` or an LDAP DN) that are all hex
///   digits or mix upper and lower case letters with digits (16 with an empty
///   password), or a known token prefix (`ghp_`, `glpat-`, `xox`, `eyJ`,
///   `AKIA`, `sk-`) and at least 16 characters. `svc-backup-operator-2026`
///   stays a name.
///
/// Such a secret is dropped and only its length kept, as for a password.
public enum UserField {
    /// The user name to report and the length of a secret taken out of it.
    public static func separate(_ user: String?, credential: Credential) -> (user: String?, secretLength: Int?) {
        guard let user, !user.isEmpty else { return (user, nil) }
        if let colon = user.firstIndex(of: ":") {
            let secret = user[user.index(after: colon)...]
            if !secret.isEmpty {
                let name = String(user[..<colon])
                return (looksLikeToken(name) ? nil : name, secret.utf8.count + (looksLikeToken(name) ? name.utf8.count + 1 : 0))
            }
        }
        let emptyPassword = credential == .cleartext(length: 0)
        if looksLikeToken(user) || (emptyPassword && looksLikeToken(user, minimum: 16)) {
            return (nil, user.utf8.count)
        }
        return (user, nil)
    }

    static let tokenPrefixes = ["ghp_", "gho_", "ghs_", "github_pat_", "glpat-", "xoxb-", "xoxp-", "eyJ", "AKIA", "sk-"]

    /// Whether `s` is shaped like an access token rather than a name.
    static func looksLikeToken(_ s: String, minimum: Int = 24) -> Bool {
        let count = s.utf8.count
        if count >= 16 && tokenPrefixes.contains(where: s.hasPrefix) { return true }
        guard count >= minimum else { return false }
        var upper = false, lower = false, digits = false, nonHex = false
        for b in s.utf8 {
            switch b {
            case 0x30...0x39: digits = true
            case 0x41...0x46: upper = true
            case 0x61...0x66: lower = true
            case 0x47...0x5A: upper = true; nonHex = true
            case 0x67...0x7A: lower = true; nonHex = true
            case 0x20, 0x09, 0x40, 0x5C, 0x3D, 0x2C: return false  // space, tab, @, \, =, ,
            default: nonHex = true
            }
        }
        return (upper && lower && digits) || (!nonHex && digits && count >= minimum)
    }
}
