/// ICMP type/code → port-like values (Zeek's mapping, as Community ID v1 uses):
/// a request and its reply become the two directions of one flow.
public enum ICMPPorts {
    /// `oneWay` types have no counterpart; their "ports" are type and code.
    @inline(__always)
    public static func map(type: UInt8, code: UInt8, v6: Bool) -> (source: UInt16, destination: UInt16, oneWay: Bool) {
        if let counterpart = v6 ? counterpartV6(type) : counterpartV4(type) {
            return (UInt16(type), UInt16(counterpart), false)
        }
        return (UInt16(type), UInt16(code), true)
    }

    @inline(__always)
    static func counterpartV4(_ t: UInt8) -> UInt8? {
        switch t {
        case 8: return 0
        case 0: return 8
        case 13: return 14
        case 14: return 13
        case 15: return 16
        case 16: return 15
        case 10: return 9
        case 9: return 10
        case 17: return 18
        case 18: return 17
        default: return nil
        }
    }

    @inline(__always)
    static func counterpartV6(_ t: UInt8) -> UInt8? {
        switch t {
        case 128: return 129
        case 129: return 128
        case 130: return 131
        case 131: return 130
        case 133: return 134
        case 134: return 133
        case 135: return 136
        case 136: return 135
        case 139: return 140
        case 140: return 139
        case 144: return 145
        case 145: return 144
        default: return nil
        }
    }

    /// Whether an ICMP type is a reply (its sender answers, not initiates).
    @inline(__always)
    public static func isReply(type: UInt8, v6: Bool) -> Bool {
        v6 ? (type == 129 || type == 131 || type == 134 || type == 136 || type == 140 || type == 145)
           : (type == 0 || type == 14 || type == 16 || type == 9 || type == 18)
    }
}
