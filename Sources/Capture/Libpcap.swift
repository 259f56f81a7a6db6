import CPcap

/// Every call into libpcap goes through this file, so that the whole C surface
/// the sensor uses is visible in one place. Each function is a thin, typed
/// spelling of the C function of the same name.
enum Libpcap {
    static let errbufSize = Int(PCAP_ERRBUF_SIZE)

    /// Runs `body` with a zeroed error buffer and returns its text afterwards.
    static func withErrbuf<R>(_ body: (UnsafeMutablePointer<CChar>) -> R) -> (R, String) {
        var buffer = [CChar](repeating: 0, count: errbufSize + 1)
        let result = buffer.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
        let text = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return (result, text)
    }

    static func openOffline(_ path: String, errbuf: UnsafeMutablePointer<CChar>) -> OpaquePointer? {
        pcap_open_offline_with_tstamp_precision(path, UInt32(PCAP_TSTAMP_PRECISION_NANO), errbuf)
    }

    static func fopenOffline(_ file: UnsafeMutablePointer<FILE>, errbuf: UnsafeMutablePointer<CChar>) -> OpaquePointer? {
        pcap_fopen_offline_with_tstamp_precision(file, UInt32(PCAP_TSTAMP_PRECISION_NANO), errbuf)
    }

    static func create(_ device: String, errbuf: UnsafeMutablePointer<CChar>) -> OpaquePointer? {
        pcap_create(device, errbuf)
    }

    /// The names of the devices libpcap can capture on (interfaces, `any`, `nflog`, ...); nil if it cannot list them.
    static func deviceNames() -> Set<String>? {
        var list: UnsafeMutablePointer<pcap_if_t>?
        let (status, _) = withErrbuf { pcap_findalldevs(&list, $0) }
        guard status == 0 else { return nil }
        defer { if let list { pcap_freealldevs(list) } }
        var names = Set<String>()
        var device = list
        while let d = device {
            if let name = d.pointee.name { names.insert(String(cString: name)) }
            device = d.pointee.next
        }
        return names
    }

    static func openDead(linkType: Int32, snaplen: Int32) -> OpaquePointer? {
        pcap_open_dead_with_tstamp_precision(linkType, snaplen, UInt32(PCAP_TSTAMP_PRECISION_NANO))
    }

    static func setSnaplen(_ p: OpaquePointer, _ v: Int32) -> Int32 { pcap_set_snaplen(p, v) }
    static func setPromisc(_ p: OpaquePointer, _ v: Bool) -> Int32 { pcap_set_promisc(p, v ? 1 : 0) }
    static func setTimeout(_ p: OpaquePointer, _ ms: Int32) -> Int32 { pcap_set_timeout(p, ms) }
    static func setBufferSize(_ p: OpaquePointer, _ v: Int32) -> Int32 { pcap_set_buffer_size(p, v) }
    static func setImmediateMode(_ p: OpaquePointer, _ v: Bool) -> Int32 { pcap_set_immediate_mode(p, v ? 1 : 0) }
    static func setTstampPrecisionNano(_ p: OpaquePointer) -> Int32 {
        pcap_set_tstamp_precision(p, Int32(PCAP_TSTAMP_PRECISION_NANO))
    }
    static func tstampPrecisionIsNano(_ p: OpaquePointer) -> Bool {
        pcap_get_tstamp_precision(p) == Int32(PCAP_TSTAMP_PRECISION_NANO)
    }
    static func activate(_ p: OpaquePointer) -> Int32 { pcap_activate(p) }
    static func setDirectionIn(_ p: OpaquePointer) -> Int32 { pcap_setdirection(p, PCAP_D_IN) }
    static func setNonblock(_ p: OpaquePointer, _ v: Bool, errbuf: UnsafeMutablePointer<CChar>) -> Int32 {
        pcap_setnonblock(p, v ? 1 : 0, errbuf)
    }
    static func selectableFD(_ p: OpaquePointer) -> Int32 { pcap_get_selectable_fd(p) }
    static func breakloop(_ p: OpaquePointer) { pcap_breakloop(p) }

    static func datalink(_ p: OpaquePointer) -> Int32 { pcap_datalink(p) }
    /// The FILE an offline handle reads (nil for a live one).
    static func file(_ p: OpaquePointer) -> UnsafeMutablePointer<FILE>? { pcap_file(p) }
    static func snapshot(_ p: OpaquePointer) -> Int32 { pcap_snapshot(p) }
    static func geterr(_ p: OpaquePointer) -> String { String(cString: pcap_geterr(p)) }
    static func statustostr(_ status: Int32) -> String { String(cString: pcap_statustostr(status)) }
    static func datalinkName(_ dlt: Int32) -> String? {
        guard let name = pcap_datalink_val_to_name(dlt) else { return nil }
        return String(cString: name)
    }

    static func nextEx(
        _ p: OpaquePointer,
        _ header: UnsafeMutablePointer<UnsafeMutablePointer<pcap_pkthdr>?>,
        _ data: UnsafeMutablePointer<UnsafePointer<UInt8>?>
    ) -> Int32 {
        pcap_next_ex(p, header, data)
    }

    static func compile(_ p: OpaquePointer, _ program: UnsafeMutablePointer<bpf_program>, _ expression: String) -> Int32 {
        pcap_compile(p, program, expression, 1, PCAP_NETMASK_UNKNOWN)
    }
    static func setfilter(_ p: OpaquePointer, _ program: UnsafeMutablePointer<bpf_program>) -> Int32 {
        pcap_setfilter(p, program)
    }
    static func freecode(_ program: UnsafeMutablePointer<bpf_program>) { pcap_freecode(program) }
    static func offlineFilter(_ program: UnsafePointer<bpf_program>, _ header: UnsafePointer<pcap_pkthdr>, _ bytes: UnsafePointer<UInt8>) -> Bool {
        pcap_offline_filter(program, header, bytes) != 0
    }

    static func stats(_ p: OpaquePointer, _ s: UnsafeMutablePointer<pcap_stat>) -> Int32 { pcap_stats(p, s) }

    static func close(_ p: OpaquePointer) { pcap_close(p) }

    static func dumpOpen(_ p: OpaquePointer, _ path: String) -> OpaquePointer? { pcap_dump_open(p, path) }
    static func dump(_ dumper: OpaquePointer, _ header: UnsafePointer<pcap_pkthdr>, _ bytes: UnsafePointer<UInt8>) {
        pcap_dump(UnsafeMutableRawPointer(dumper).assumingMemoryBound(to: UInt8.self), header, bytes)
    }
    static func dumpFlush(_ dumper: OpaquePointer) -> Int32 { pcap_dump_flush(dumper) }
    static func dumpClose(_ dumper: OpaquePointer) { pcap_dump_close(dumper) }

    static func libraryVersion() -> String { String(cString: pcap_lib_version()) }
}
