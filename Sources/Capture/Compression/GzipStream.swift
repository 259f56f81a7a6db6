import CCompression

/// gzip through zlib (inflate with automatic header detection); files of
/// several members (`cat a.gz b.gz`, what rotation tools may append) are read whole.
final class GzipStream: StreamDecoder {
    private var stream = z_stream()
    private var inMember = false
    private var output = [UInt8](repeating: 0, count: decompressedChunk)

    static func make() -> Result<GzipStream, DecompressionError> {
        let s = GzipStream()
        guard zw_inflate_init_gzip(&s.stream) == Z_OK else { return .failure(DecompressionError("zlib could not start")) }
        return .success(s)
    }

    deinit { inflateEnd(&stream) }

    func decode(_ input: UnsafeRawBufferPointer, emit: (UnsafeRawBufferPointer) -> Bool) -> Result<Bool, DecompressionError> {
        guard let base = input.baseAddress, !input.isEmpty else { return .success(true) }
        stream.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = uInt(input.count)
        while stream.avail_in > 0 {
            if !inMember {
                // Another member follows the last one's end.
                inflateReset(&stream)
                inMember = true
            }
            let (status, produced) = output.withUnsafeMutableBytes { out -> (Int32, Int) in
                stream.next_out = out.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.avail_out = uInt(out.count)
                let status = inflate(&stream, Z_NO_FLUSH)
                return (status, out.count - Int(stream.avail_out))
            }
            if produced > 0, !output.withUnsafeBytes({ emit(UnsafeRawBufferPointer(rebasing: $0[..<produced])) }) { return .success(false) }
            switch status {
            case Z_OK, Z_BUF_ERROR: continue
            case Z_STREAM_END: inMember = false
            default:
                let reason = stream.msg.map { String(cString: $0) } ?? "status \(status)"
                return .failure(DecompressionError("gzip data is corrupt (\(reason))"))
            }
        }
        return .success(true)
    }

    func finish() -> DecompressionError? {
        inMember ? DecompressionError("the gzip data ends early (a truncated file)") : nil
    }
}
