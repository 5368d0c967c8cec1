"""One normal form for each kind of value people type or paste (规范化), and nothing else.

Every entrance — the wizard, the JSON API, provider imports, the public query, access gating,
the forgotten-username form — calls these, and conflict detection and the public query
compare what they return, so two writings a person sees as the same are the same everywhere.

| module | kind of value | standards |
| --- | --- | --- |
| ``text`` | any typed text: format characters dropped, width folded | Unicode categories (Cf), UAX #15 (NFKC) |
| ``names`` | sponsor, website and responsible-person names | GB 18030 middle dot (U+00B7), OpenCC |
| ``domains`` | domains and homepages | RFC 3490 §3.1, RFC 5890–5893 (IDNA 2008), UTS #46 |
| ``addresses`` | IP addresses | RFC 4291 §2.5.5.2 (IPv4-mapped) |
| ``certificates`` | certificate numbers | GB 32100-2015, GB 11643-1999, GA 2102-2023 |
| ``mobiles`` | mainland mobile numbers | ITU-T E.164, the numbering plan of +86 |
| ``emails`` | email addresses | RFC 5321/5322, RFC 6531 |
| ``filing_numbers`` | sponsor and website filing numbers | SPEC §3 |
| ``apps`` | app identifiers, certificate fingerprints and public keys | Android, Apple and OpenHarmony naming rules; SPEC §13 |
"""
