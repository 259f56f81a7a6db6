import Decode
import Testing
import Vocabulary
@testable import Zones

/// The catalogue's lookup table against a model: a scan of its entries in
/// order, the first entry for a class, protocol and port winning.
@Suite("Service catalogue")
struct ServiceCatalogueTests {
    static func model(_ c: ServiceCatalogue) -> [String: String] {
        var first: [String: String] = [:]
        for e in c.entries {
            for port in e.spec.lowPort...e.spec.highPort {
                let key = "\(e.serviceClass) \(e.spec.proto.rawValue) \(port)"
                if first[key] == nil { first[key] = e.name }
            }
        }
        return first
    }

    static func check(_ c: ServiceCatalogue) {
        let model = Self.model(c)
        var found = 0
        for cls in ServiceClass.allCases {
            for proto in [IPProtocol.tcp, .udp] {
                for port in 0...UInt16.max {
                    let name = c.lookup(cls, proto, port)?.name
                    if name != model["\(cls) \(proto.rawValue) \(port)"] {
                        Issue.record("\(cls) \(proto) \(port): \(name ?? "nil") instead of \(model["\(cls) \(proto.rawValue) \(port)"] ?? "nil")")
                        return
                    }
                    if name != nil { found += 1 }
                }
            }
        }
        #expect(found == model.count)
    }

    @Test func builtInCatalogueMatchesItsEntries() {
        Self.check(.builtIn)
        #expect(ServiceCatalogue.builtIn.lookup(.migration, .tcp, 8000)?.name == "vmotion")
        #expect(ServiceCatalogue.builtIn.lookup(.storage, .tcp, 3260)?.name == "iscsi" && ServiceCatalogue.builtIn.lookup(.storage, .tcp, 3261) == nil)
    }

    @Test func extendedAndReplacedClassesMatchTheirEntries() {
        var c = ServiceCatalogue.builtIn
        // Overlapping ranges: the first entry listed wins, as before.
        c.apply(.storage, entries: [ServiceEntry(ServiceSpec(proto: .tcp, lowPort: 3000, highPort: 3999), name: "wide", product: "site", class: .storage, distinctive: true)], replace: false)
        c.apply(.console, entries: [ServiceEntry(ServiceSpec(proto: .udp, lowPort: 40000, highPort: 42000), name: "udp-console", product: "site", class: .console, distinctive: true)], replace: true)
        Self.check(c)
        #expect(c.lookup(.storage, .tcp, 3260)?.name == "iscsi" && c.lookup(.storage, .tcp, 3261)?.name == "wide")
        #expect(c.lookup(.console, .tcp, 5900) == nil && c.lookup(.console, .udp, 41000)?.name == "udp-console")
    }
}
