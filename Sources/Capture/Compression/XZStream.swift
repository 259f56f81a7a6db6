import CCompression

/// xz through liblzma (concatenated streams read whole).
final class XZStream: StreamDecoder {
    private var stream = lzma_stream()
    private var output = [UInt8](repeating: 0, count: decompressedChunk)

    static func make() -> Result<XZStream, DecompressionError> {
        let s = XZStream()
        guard lzma_stream_decoder(&s.stream, UInt64.max, zw_lzma_concatenated()) == LZMA_OK else {
            return .failure(DecompressionError("liblzma could not start"))
        }
        return .success(s)
    }

    deinit { lzma_end(&stream) }

    func decode(_ input: UnsafeRawBufferPointer, emit: (UnsafeRawBufferPointer) -> Bool) -> Result<Bool, DecompressionError> {
        guard let base = input.baseAddress, !input.isEmpty else { return .success(true) }
        stream.next_in = base.assumingMemoryBound(to: UInt8.self)
        stream.avail_in = input.count
        return run(LZMA_RUN, emit: emit)
    }

    private func run(_ action: lzma_action, emit: (UnsafeRawBufferPointer) -> Bool) -> Result<Bool, DecompressionError> {
        while true {
            let (status, produced) = output.withUnsafeMutableBytes { out -> (lzma_ret, Int) in
                stream.next_out = out.baseAddress!.assumingMemoryBound(to: UInt8.self)
                stream.avail_out = out.count
                let status = lzma_code(&stream, action)
                return (status, out.count - stream.avail_out)
            }
            if produced > 0, !output.withUnsafeBytes({ emit(UnsafeRawBufferPointer(rebasing: $0[..<produced])) }) { return .success(false) }
            switch status {
            case LZMA_OK:
                if stream.avail_in == 0 && produced < output.count && action == LZMA_RUN { return .success(true) }
            case LZMA_STREAM_END: return .success(true)
            case LZMA_BUF_ERROR where action == LZMA_FINISH:
                return .failure(DecompressionError("the xz data ends early (a truncated file)"))
            case LZMA_FORMAT_ERROR:
                return .failure(DecompressionError("not xz data after all (no xz stream header)"))
            case LZMA_OPTIONS_ERROR:
                return .failure(DecompressionError("xz data uses options this liblzma does not support"))
            case LZMA_MEMLIMIT_ERROR, LZMA_MEM_ERROR:
                return .failure(DecompressionError("xz data needs more memory than liblzma could have"))
            default:
                // LZMA_DATA_ERROR, a checksum that does not match, a block that does not decode.
                return .failure(DecompressionError("xz data is corrupt (liblzma error \(status.rawValue): the compressed bytes do not decode)"))
            }
        }
    }

    func finish() -> DecompressionError? {
        stream.next_in = nil
        stream.avail_in = 0
        if case .failure(let e) = run(LZMA_FINISH, emit: { _ in true }) { return e }
        return nil
    }
}
