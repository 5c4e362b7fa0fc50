extension ObjectStore: ObjectReader {}

extension LedgerVerifier {
    /// A verifier of a node home's own ledger: its objects, its public keys (keys/*.pub.pem, read when
    /// run), and the TSAs node.json trusts (relative CA paths are inside the home).
    public init(home: NodeHome) {
        let tsas = (home.config.tsa ?? []).map { t in
            TrustedTSA(url: t.url, caPath: t.ca.hasPrefix("/") ? t.ca : home.path + "/" + t.ca)
        }
        self.init(ledger: home.ledger, objects: home.store, trustedTSAs: tsas, defaultKeys: home.verifiers)
    }
}
