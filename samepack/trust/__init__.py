"""Who made a bundle and what is inside: signatures, provenance and SBOM.

- ``keys``: PEM key pairs (Ed25519, ECDSA P-256) through ``cryptography``.
- ``dsse``: DSSE envelopes (the signed wrapper cosign and in-toto read), pure.
- ``statement``: in-toto Statements v1 naming a bundle's digests, pure.
- ``identity``: what a bundle's digest is, whatever route it took (file, directory, registry).
- ``policy``: which keys a user trusts and whether a signature is required.
- ``check``: the verdict for one bundle: signed by a trusted key, for this bundle, or refused.
- ``sidecar``: where a signature lives beside a bundle file.
- ``provenance``, ``sbom``: the SLSA provenance and CycloneDX SBOM written into each export.
"""
