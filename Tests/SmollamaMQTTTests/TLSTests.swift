import Foundation
import Logging
import SmollamaTesting
import Testing
@testable import SmollamaMQTT

/// TLS to a broker with its own test CA (made with the openssl command for this test).
@Suite(.serialized) struct TLSTests {
    /// A CA and a server certificate for 127.0.0.1, in `directory`.
    static func makeCertificates(in directory: String) throws {
        let steps = [
            ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
             "-subj", "/CN=smollama-test-ca"],
            ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"],
            ["x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "server.crt", "-days", "2", "-extfile", "san.ext"],
        ]
        try "subjectAltName=IP:127.0.0.1\n".write(toFile: directory + "/san.ext", atomically: true, encoding: .utf8)
        for arguments in steps {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            process.arguments = arguments
            process.currentDirectoryURL = URL(fileURLWithPath: directory)
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                throw TestBroker.BrokerFailed(description: "openssl \(arguments[0]) failed; install Debian's openssl")
            }
        }
    }

    @Test func tlsClientConnectsAndPlainClientDoesNot() async throws {
        let certificates = try TemporaryDirectory("certs")
        try Self.makeCertificates(in: certificates.path)
        let broker = try await TestBroker(listenerOptions: """
            cafile \(certificates.path)/ca.crt
            certfile \(certificates.path)/server.crt
            keyfile \(certificates.path)/server.key
            """)
        let secure = try makeClient(broker, id: "tls-client") { options in
            options.tls = .init(caFile: certificates.path + "/ca.crt")
        }
        let plain = try makeClient(broker, id: "plain-client")
        let received = Received(secure, ["test/tls"])
        try await withServices([{ try await secure.run() }, { try await plain.run() }]) { () async throws in
            #expect(try await eventually { await secure.isConnected })
            #expect(try await eventually {
                await secure.publish(MQTTOutgoing(topic: "test/tls", text: "sealed"))
                return received.texts.contains("sealed")
            })
            #expect(await !plain.isConnected, "a plain-text client cannot talk to a TLS listener")
            #expect(await plain.status().connects == 0)
        }
    }

    @Test func missingCertificateFileIsASetupErrorNamingTheKey() {
        var options = MQTTClient.Options(host: "127.0.0.1", port: 1, clientID: "x")
        options.tls = .init(caFile: "/nonexistent/ca.pem")
        #expect {
            _ = try MQTTClient(options: options, logger: .quiet)
        } throws: { error in
            "\(error)".contains("tls_ca_file")
        }
    }
}
