#if canImport(Glibc)
import Glibc
#endif

/// The compressions a capture file may come in, recognised by their magic
/// (not their name) and read through the system's libraries. One case per
/// format; its decoder is in a file of its own (`GzipStream.swift`, ...).
public enum CaptureCompression: String, CaseIterable, Sendable {
    case gzip, zstd, xz, lz4

    /// The first bytes of a file in this format.
    var magic: [UInt8] {
        switch self {
        case .gzip: return [0x1F, 0x8B]
        case .zstd: return [0x28, 0xB5, 0x2F, 0xFD]
        case .xz: return [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]
        case .lz4: return [0x04, 0x22, 0x4D, 0x18]
        }
    }

    /// The compression whose magic `prefix` starts with, if any.
    public static func recognise(_ prefix: some Collection<UInt8>) -> CaptureCompression? {
        allCases.first { prefix.starts(with: $0.magic) }
    }

    /// The first `count` bytes the compressed file at `path` holds (fewer if
    /// it holds fewer; nil if it cannot be read or is not this format): to
    /// tell a compressed capture from a compressed log in a folder.
    public func decompressedPrefix(path: String, count: Int) -> [UInt8]? {
        var output: [UInt8] = []
        let complete = decompress(path: path) { piece in
            output.append(contentsOf: piece.prefix(count - output.count))
            return output.count < count
        }
        return complete || output.count == count ? output : nil
    }

    /// Decompresses the file at `path` on this thread, handing each piece
    /// of output to `body` (which returns false to stop). False if the file
    /// cannot be read or is damaged (a truncated file ends damaged).
    public func decompress(path: String, _ body: (UnsafeRawBufferPointer) -> Bool) -> Bool {
        guard case .success(let decoder) = makeDecoder(), let file = fopen(path, "rb") else { return false }
        defer { fclose(file) }
        let input = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 * 1024, alignment: 16)
        defer { input.deallocate() }
        while true {
            let n = fread(input.baseAddress, 1, input.count, file)
            if n == 0 { return ferror(file) == 0 && decoder.finish() == nil }
            switch decoder.decode(UnsafeRawBufferPointer(rebasing: input[..<n]), emit: body) {
            case .failure: return false
            case .success(let more): if !more { return false }
            }
        }
    }

    /// A fresh decoder of this format.
    func makeDecoder() -> Result<any StreamDecoder, DecompressionError> {
        switch self {
        case .gzip: return GzipStream.make().map { $0 }
        case .zstd: return ZstdStream.make().map { $0 }
        case .xz: return XZStream.make().map { $0 }
        case .lz4: return LZ4Stream.make().map { $0 }
        }
    }
}

/// Decompresses one stream in pieces. Used from one thread.
protocol StreamDecoder: AnyObject {
    /// Decompresses `input` whole, handing each piece of output to `emit`
    /// (which returns false to stop: the reader went away).
    func decode(_ input: UnsafeRawBufferPointer, emit: (UnsafeRawBufferPointer) -> Bool) -> Result<Bool, DecompressionError>
    /// The input has ended: an error if the stream stopped inside a frame (a truncated file).
    func finish() -> DecompressionError?
}

/// Why a compressed capture could not be decompressed.
public struct DecompressionError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// The output buffer decoders fill before handing it on.
let decompressedChunk = 256 * 1024
