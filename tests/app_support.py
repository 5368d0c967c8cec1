"""Apps and mini-programs in filing data (SPEC §13), for the tests."""

from __future__ import annotations

import copy
import json
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures" / "apps"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text())

ANDROID_PACKAGE = EXPECTED["android"]["identifier"]
ANDROID_MD5 = EXPECTED["android"]["v1v2"]["md5"]
ANDROID_KEY = EXPECTED["android"]["v1v2"]["public_key"]
IOS_BUNDLE = EXPECTED["ios"]["identifier"]
IOS_SHA1 = EXPECTED["ios"]["sha1"]
IOS_KEY = EXPECTED["ios"]["public_key"]

ACCESS = {"provider": "other", "method": "cloud", "server_location": "11", "ips": ["120.79.1.20"]}

APP = {
    "name": "示例App",
    "platforms": [
        {
            "platform": "android",
            "identifier": ANDROID_PACKAGE,
            "public_key": ANDROID_KEY,
            "fingerprint": ANDROID_MD5,
        }
    ],
    "domains": ["api.example.cn"],
    "stores": ["other"],
    "services": ["corporate"],
    "commercial": False,
    "preapprovals": [],
    "accesses": [ACCESS],
}

MINI_PROGRAM = {
    "name": "示例小程序",
    "platform": "wechat",
    "platform_id": "wx0123456789abcdef",
    "services": ["corporate"],
    "commercial": False,
    "preapprovals": [],
}


def app(**overrides) -> dict:
    return {**copy.deepcopy(APP), **overrides}


def mini_program(**overrides) -> dict:
    return {**copy.deepcopy(MINI_PROGRAM), **overrides}


def android(identifier: str = ANDROID_PACKAGE, fingerprint: str = ANDROID_MD5) -> dict:
    return {
        "platform": "android",
        "identifier": identifier,
        "public_key": ANDROID_KEY,
        "fingerprint": fingerprint,
    }


def ios(identifier: str = IOS_BUNDLE, fingerprint: str = IOS_SHA1) -> dict:
    return {
        "platform": "ios",
        "identifier": identifier,
        "public_key": IOS_KEY,
        "fingerprint": fingerprint,
    }
