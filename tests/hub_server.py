"""A Hub-compatible HTTP server for tests: the part of the Hugging Face Hub API that ``huggingface_hub`` 2.4.0 and
``datasets`` 5.2.0 call to create a dataset repo, commit a folder to it (regular files inline, large or binary files
through the git-LFS batch API, basic and multipart transfers), branch and tag it, and read it back at a tag.

Every route below was found by running the real clients against this server and reading their source
(``huggingface_hub/hf_api.py``, ``_commit_api.py``, ``lfs.py``, ``file_download.py``, ``utils/_pagination.py``),
not by guessing. Repos live in memory as commits (each commit a full ``path -> blob`` snapshot), so a tag keeps
resolving to the files as of its commit whatever later commits do to the branch.

Xet storage is not implemented: clients must run with ``HF_HUB_DISABLE_XET=1``, which makes ``huggingface_hub``
upload through plain LFS and download over HTTP. A request meant for another host (a proxy ``CONNECT`` or an
absolute URL, when ``HTTPS_PROXY``/``HTTP_PROXY`` point here) is refused and recorded in ``outside``, so a test can
assert that nothing tried to reach the real Hub.
"""

from __future__ import annotations

import base64
import datetime as _dt
import fnmatch
import hashlib
import json
import os
import re
import secrets
import threading
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

import yaml

REGULAR_MAX = 10 * 1024 * 1024  # larger files must go through LFS, as on the Hub
MULTIPART_THRESHOLD = 8 * 1024 * 1024  # above this the LFS batch answer asks for a multipart upload
MULTIPART_CHUNK = 5 * 1024 * 1024
GITATTRIBUTES = b"""*.7z filter=lfs diff=lfs merge=lfs -text
*.arrow filter=lfs diff=lfs merge=lfs -text
*.bin filter=lfs diff=lfs merge=lfs -text
*.gz filter=lfs diff=lfs merge=lfs -text
*.parquet filter=lfs diff=lfs merge=lfs -text
*.png filter=lfs diff=lfs merge=lfs -text
*.zip filter=lfs diff=lfs merge=lfs -text
"""


def git_blob_oid(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_pointer(sha256: str, size: int) -> bytes:
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


@dataclass(frozen=True)
class Blob:
    data: bytes
    lfs: bool

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def oid(self) -> str:
        """The git object id: of the content, or of the LFS pointer file for an LFS blob."""
        return git_blob_oid(lfs_pointer(self.sha256, len(self.data)) if self.lfs else self.data)

    def entry(self, path: str) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "file", "oid": self.oid, "size": len(self.data), "path": path}
        if self.lfs:
            pointer = lfs_pointer(self.sha256, len(self.data))
            out["lfs"] = {"oid": self.sha256, "size": len(self.data), "pointerSize": len(pointer)}
        return out


@dataclass(frozen=True)
class Commit:
    oid: str
    parent: str | None
    files: dict[str, Blob]
    title: str
    description: str
    date: str


@dataclass
class Repo:
    repo_type: str
    repo_id: str
    private: bool
    commits: dict[str, Commit] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)
    tags: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (commit oid, message)

    def resolve(self, rev: str) -> Commit | None:
        """A branch, tag, ``refs/heads/...``, ``refs/tags/...`` or full commit id."""
        if rev.startswith("refs/heads/"):
            oid = self.branches.get(rev[len("refs/heads/"):])
        elif rev.startswith("refs/tags/"):
            oid = self.tags.get(rev[len("refs/tags/"):], (None, ""))[0]
        elif rev in self.branches:
            oid = self.branches[rev]
        elif rev in self.tags:
            oid = self.tags[rev][0]
        else:
            oid = rev
        return self.commits.get(oid) if oid else None


class HubState:
    """Everything the server holds; tests read it directly (``repos``, ``log``, ``outside``, ``errors``)."""

    def __init__(self, tokens: dict[str, str], page_size: int):
        self.tokens = tokens  # token -> user name
        self.page_size = page_size
        self.lock = threading.RLock()
        self.repos: dict[tuple[str, str], Repo] = {}
        self.lfs: dict[str, bytes] = {}  # sha256 -> content, as uploaded (shared by all repos, like a CAS)
        self.uploads: dict[str, tuple[str, int]] = {}  # upload id -> (sha256, size)
        self.parts: dict[str, dict[int, bytes]] = {}
        self.log: list[tuple[str, str, int]] = []  # (method, path with query, status)
        self.outside: list[str] = []
        self.errors: list[str] = []
        self.auth_seen: list[str | None] = []  # the Authorization header of each request, for the token tests
        # Repo ids whose every request gets a 500 whose body and X-Error-Message echo the request's headers, the
        # Authorization header included (as a misconfigured server or proxy does), for the token-scrubbing tests.
        self.echo_headers: set[str] = set()

    def new_commit(self, repo: Repo, parent: str | None, files: dict[str, Blob], title: str, description: str) -> str:
        now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        body = json.dumps([parent, sorted((p, b.oid) for p, b in files.items()), title, description, now,
                           len(repo.commits)]).encode()
        oid = hashlib.sha1(body).hexdigest()
        repo.commits[oid] = Commit(oid, parent, dict(files), title, description, now)
        return oid

    def all_stored_bytes(self) -> bytes:
        """Every byte any repo holds (file contents, commit titles and descriptions, tag messages), for leak tests."""
        with self.lock:
            chunks: list[bytes] = list(self.lfs.values())
            for repo in self.repos.values():
                for c in repo.commits.values():
                    chunks += [c.title.encode(), c.description.encode()]
                    chunks += [b.data for b in c.files.values()]
                chunks += [m.encode() for _, m in repo.tags.values()]
            return b"\n".join(chunks)


class HubError(Exception):
    def __init__(self, status: int, message: str, code: str | None = None, commit: str | None = None,
                 **extra: Any):
        super().__init__(message)
        self.status, self.message, self.code, self.commit, self.extra = status, message, code, commit, extra


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: HubHTTPServer

    # -- plumbing ---------------------------------------------------------------------------------------------
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
        pass

    @property
    def state(self) -> HubState:
        return self.server.state

    @property
    def base(self) -> str:
        return f"http://{self.server.server_address[0]}:{self.server.server_address[1]}"

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(out)
                out += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None,
              content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.state.log.append((self.command, self.path, status))

    def _json(self, status: int, value: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(value).encode(), headers)

    def _dispatch(self) -> None:
        self.state.auth_seen.append(self.headers.get("Authorization"))
        if self.command == "CONNECT" or self.path.startswith(("http://", "https://")):
            target = self.path
            self._body()
            self.state.outside.append(f"{self.command} {target}")
            self.close_connection = True
            self._send(403, b"this test server is not a proxy to the outside", content_type="text/plain")
            return
        if any(repo in unquote(self.path) for repo in self.state.echo_headers):
            self._body()
            echoed = "; ".join(f"{k}: {v}" for k, v in self.headers.items())
            self._json(500, {"error": f"internal error; the request was: {echoed}"},
                       {"X-Error-Message": f"internal error ({echoed})"})
            return
        try:
            self._route()
        except HubError as e:
            headers = {"X-Error-Message": e.message}
            if e.code:
                headers["X-Error-Code"] = e.code
            if e.commit:
                headers["X-Repo-Commit"] = e.commit
            self._json(e.status, {"error": e.message, **e.extra}, headers)
        except Exception:  # a bug in this server: record it so the test fails loudly
            self.state.errors.append(f"{self.command} {self.path}\n{traceback.format_exc()}")
            self._json(500, {"error": "internal test-server error"})

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_CONNECT = _dispatch

    # -- auth and lookups -------------------------------------------------------------------------------------
    def _user(self) -> str | None:
        auth = self.headers.get("Authorization") or ""
        if not auth.startswith("Bearer "):
            return None
        user = self.state.tokens.get(auth[len("Bearer "):])
        if user is None:
            raise HubError(401, "Invalid credentials in Authorization header")
        return user

    def _repo(self, repo_type: str, repo_id: str, *, write: bool = False) -> Repo:
        user = self._user()
        repo = self.state.repos.get((repo_type, repo_id))
        visible = repo is not None and (not repo.private or user == repo_id.split("/")[0])
        if not visible:
            raise HubError(404 if user else 401, "Repository not found", "RepoNotFound")
        if write and user != repo_id.split("/")[0]:
            raise HubError(403, "You don't have the rights to write to this repo")
        return repo

    @staticmethod
    def _commit(repo: Repo, rev: str) -> Commit:
        commit = repo.resolve(rev)
        if commit is None:
            raise HubError(404, f"Invalid rev id: {rev}", "RevisionNotFound")
        return commit

    # -- routing ----------------------------------------------------------------------------------------------
    def _route(self) -> None:
        split = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(split.query).items()}
        seg = [unquote(s) for s in split.path.strip("/").split("/")]
        m, n = self.command, len(seg)
        if m == "GET" and seg == ["api", "whoami-v2"]:
            return self._whoami()
        if m == "POST" and seg == ["api", "repos", "create"]:
            return self._create_repo()
        if m == "POST" and seg == ["api", "validate-yaml"]:
            return self._validate_yaml()
        if m == "PUT" and n == 2 and seg[0] == "lfs-upload":
            return self._lfs_put(seg[1])
        if m == "PUT" and n == 4 and seg[0] == "lfs-multipart" and seg[2] == "part":
            return self._lfs_part(seg[1], int(seg[3]))
        if m == "POST" and n == 3 and seg[0] == "lfs-multipart" and seg[2] == "complete":
            return self._lfs_complete(seg[1])
        if n >= 4 and seg[0] == "api" and seg[1] in ("models", "datasets", "spaces"):
            repo_type, repo_id, rest = seg[1][:-1], f"{seg[2]}/{seg[3]}", seg[4:]
            return self._api(repo_type, repo_id, rest, query)
        if n >= 3 and seg[0] in ("datasets", "spaces") and seg[2].endswith(".git"):
            repo_type, repo_id = seg[0][:-1], f"{seg[1]}/{seg[2][:-4]}"
            if m == "POST" and seg[3:] == ["info", "lfs", "objects", "batch"]:
                return self._lfs_batch(repo_type, repo_id)
            if m == "POST" and seg[3:] == ["info", "lfs", "objects", "verify"]:
                return self._lfs_verify(repo_type, repo_id)
        if m in ("GET", "HEAD") and n >= 6 and seg[0] in ("datasets", "spaces") and seg[3] == "resolve":
            return self._resolve(seg[0][:-1], f"{seg[1]}/{seg[2]}", seg[4], "/".join(seg[5:]))
        if m in ("GET", "HEAD") and n >= 5 and seg[2] == "resolve":
            return self._resolve("model", f"{seg[0]}/{seg[1]}", seg[3], "/".join(seg[4:]))
        raise HubError(404, f"no such route in the test Hub: {m} {split.path}")

    def _api(self, repo_type: str, repo_id: str, rest: list[str], query: dict[str, str]) -> None:
        m = self.command
        if m == "GET" and rest == []:
            return self._info(repo_type, repo_id, "main", query)
        if m == "GET" and len(rest) == 2 and rest[0] == "revision":
            return self._info(repo_type, repo_id, rest[1], query)
        if m == "GET" and rest == ["refs"]:
            return self._refs(repo_type, repo_id, query)
        if m == "POST" and len(rest) == 2 and rest[0] == "preupload":
            return self._preupload(repo_type, repo_id, rest[1])
        if m == "POST" and len(rest) == 2 and rest[0] == "commit":
            return self._commit_route(repo_type, repo_id, rest[1])
        if m == "POST" and len(rest) == 2 and rest[0] == "tag":
            return self._create_tag(repo_type, repo_id, rest[1])
        if m == "POST" and len(rest) == 2 and rest[0] == "branch":
            return self._create_branch(repo_type, repo_id, rest[1])
        if m == "GET" and len(rest) >= 2 and rest[0] == "tree":
            return self._tree(repo_type, repo_id, rest[1], "/".join(rest[2:]), query)
        if m == "POST" and len(rest) == 2 and rest[0] == "paths-info":
            return self._paths_info(repo_type, repo_id, rest[1])
        raise HubError(404, f"no such route in the test Hub: {m} /api/{repo_type}s/{repo_id}/{'/'.join(rest)}")

    # -- account and repos ------------------------------------------------------------------------------------
    def _whoami(self) -> None:
        user = self._user()
        if user is None:
            raise HubError(401, "Invalid credentials in Authorization header")
        self._json(200, {"type": "user", "id": hashlib.sha1(user.encode()).hexdigest()[:24], "name": user,
                         "fullname": user, "orgs": [], "isPro": False, "canPay": False,
                         "auth": {"type": "access_token", "accessToken": {"displayName": "test", "role": "write"}}})

    def _create_repo(self) -> None:
        user = self._user()
        payload = json.loads(self._body() or b"{}")
        if user is None:
            raise HubError(401, "Invalid credentials in Authorization header")
        owner = payload.get("organization") or user
        name = payload.get("name") or ""
        repo_type = payload.get("type") or "model"
        if owner != user:
            raise HubError(403, f"You don't have the rights to create a repo under the namespace {owner!r}")
        if not re.fullmatch(r"[A-Za-z0-9][\w.-]{0,95}", name) or "--" in name or ".." in name:
            raise HubError(400, f"Invalid repo name {name!r}")
        repo_id = f"{owner}/{name}"
        prefix = "" if repo_type == "model" else f"{repo_type}s/"
        url = f"{self.base}/{prefix}{repo_id}"
        with self.state.lock:
            if (repo_type, repo_id) in self.state.repos:
                raise HubError(409, f"You already created this {repo_type} repo", url=url)
            private = payload.get("visibility", "public") != "public" if "visibility" in payload else bool(
                payload.get("private"))
            repo = Repo(repo_type, repo_id, private)
            oid = self.state.new_commit(repo, None, {".gitattributes": Blob(GITATTRIBUTES, False)},
                                        "initial commit", "")
            repo.branches["main"] = oid
            self.state.repos[(repo_type, repo_id)] = repo
        self._json(200, {"url": url, "name": repo_id, "id": hashlib.sha1(repo_id.encode()).hexdigest()[:24]})

    def _validate_yaml(self) -> None:
        payload = json.loads(self._body() or b"{}")
        content = payload.get("content", "")
        errors = []
        if content.startswith("---\n") and "\n---\n" in content[4:]:
            try:
                meta = yaml.safe_load(content[4 : content.index("\n---\n", 4)])
                if meta is not None and not isinstance(meta, dict):
                    errors.append({"message": "metadata must be a mapping"})
            except yaml.YAMLError as exc:
                errors.append({"message": f"YAML does not parse: {str(exc).splitlines()[0]}"})
        if errors:
            return self._json(400, {"errors": errors, "warnings": []}, {"X-Error-Message": errors[0]["message"]})
        self._json(200, {"errors": [], "warnings": []})

    def _info(self, repo_type: str, repo_id: str, rev: str, query: dict[str, str]) -> None:
        with self.state.lock:
            repo = self._repo(repo_type, repo_id)
            commit = self._commit(repo, rev)
            blobs = query.get("blobs", "").lower() == "true"
            siblings = []
            for path, blob in sorted(commit.files.items()):
                s: dict[str, Any] = {"rfilename": path}
                if blobs:
                    s.update(size=len(blob.data), blobId=blob.oid)
                    if blob.lfs:
                        s["lfs"] = blob.entry(path)["lfs"] | {"sha256": blob.sha256}
                siblings.append(s)
            card = commit.files.get("README.md")
            card_data = None
            if card is not None and card.data.startswith(b"---\n") and b"\n---\n" in card.data[4:]:
                text = card.data.decode()
                card_data = yaml.safe_load(text[4 : text.index("\n---\n", 4)])
            self._json(200, {
                "_id": hashlib.sha1(repo_id.encode()).hexdigest()[:24], "id": repo_id,
                "author": repo_id.split("/")[0], "sha": commit.oid, "lastModified": commit.date,
                "createdAt": repo.commits[min(repo.commits, key=lambda o: repo.commits[o].date)].date,
                "private": repo.private, "gated": False, "disabled": False, "downloads": 0, "likes": 0,
                "tags": list((card_data or {}).get("tags") or []), "cardData": card_data, "siblings": siblings,
                "usedStorage": sum(len(b.data) for b in commit.files.values()),
            })

    def _refs(self, repo_type: str, repo_id: str, query: dict[str, str]) -> None:
        with self.state.lock:
            repo = self._repo(repo_type, repo_id)
            out: dict[str, Any] = {
                "branches": [{"name": b, "ref": f"refs/heads/{b}", "targetCommit": o}
                             for b, o in sorted(repo.branches.items())],
                "converts": [],
                "tags": [{"name": t, "ref": f"refs/tags/{t}", "targetCommit": o}
                         for t, (o, _) in sorted(repo.tags.items())],
            }
            if query.get("include_prs"):
                out["pullRequests"] = []
        self._json(200, out)

    def _create_tag(self, repo_type: str, repo_id: str, rev: str) -> None:
        payload = json.loads(self._body() or b"{}")
        with self.state.lock:
            repo = self._repo(repo_type, repo_id, write=True)
            commit = self._commit(repo, rev)
            tag = payload.get("tag") or ""
            if not re.fullmatch(r"[\w.][\w./-]*", tag):
                raise HubError(400, f"Invalid tag name {tag!r}")
            if tag in repo.tags:
                raise HubError(409, f"Tag {tag} already exists")
            repo.tags[tag] = (commit.oid, payload.get("message") or "")
        self._json(200, {})

    def _create_branch(self, repo_type: str, repo_id: str, branch: str) -> None:
        payload = json.loads(self._body() or b"{}")
        with self.state.lock:
            repo = self._repo(repo_type, repo_id, write=True)
            if branch in repo.branches and not payload.get("overwrite"):
                raise HubError(409, f"Branch {branch} already exists")
            start = self._commit(repo, payload.get("startingPoint") or "main")
            repo.branches[branch] = start.oid
        self._json(200, {})

    # -- commits and LFS --------------------------------------------------------------------------------------
    def _preupload(self, repo_type: str, repo_id: str, rev: str) -> None:
        payload = json.loads(self._body() or b"{}")
        with self.state.lock:
            repo = self._repo(repo_type, repo_id, write=True)
            commit = self._commit(repo, rev)
            attrs = commit.files.get(".gitattributes")
            patterns = [ln.split()[0] for ln in (attrs.data.decode() if attrs else "").splitlines()
                        if "filter=lfs" in ln]
            files = []
            for f in payload.get("files", []):
                path, size, sample = f["path"], int(f["size"]), base64.b64decode(f.get("sample", ""))
                name = path.rsplit("/", 1)[-1]
                lfs = size > REGULAR_MAX or b"\0" in sample or any(
                    fnmatch.fnmatch(name, p) or fnmatch.fnmatch(path, p) for p in patterns)
                existing = commit.files.get(path)
                oid = None if existing is None else (existing.sha256 if existing.lfs else existing.oid)
                files.append({"path": path, "uploadMode": "lfs" if lfs else "regular", "shouldIgnore": False,
                              "oid": oid})
        self._json(200, {"files": files, "commitOid": commit.oid})

    def _lfs_batch(self, repo_type: str, repo_id: str) -> None:
        payload = json.loads(self._body() or b"{}")
        with self.state.lock:
            self._repo(repo_type, repo_id, write=True)
            if payload.get("operation") != "upload":
                raise HubError(400, "only uploads go through this test server's LFS batch API")
            transfers = payload.get("transfers") or ["basic"]
            objects = []
            for obj in payload.get("objects", []):
                oid, size = obj["oid"], int(obj["size"])
                if oid in self.state.lfs:
                    objects.append({"oid": oid, "size": size})
                    continue
                upload_id = secrets.token_hex(8)
                self.state.uploads[upload_id] = (oid, size)
                verify = {"href": f"{self.base}/{repo_type}s/{repo_id}.git/info/lfs/objects/verify"}
                if size > MULTIPART_THRESHOLD and "multipart" in transfers:
                    parts = -(-size // MULTIPART_CHUNK)
                    header = {"chunk_size": str(MULTIPART_CHUNK)}
                    for i in range(1, parts + 1):
                        header[f"{i:05d}"] = f"{self.base}/lfs-multipart/{upload_id}/part/{i}"
                    upload = {"href": f"{self.base}/lfs-multipart/{upload_id}/complete", "header": header}
                else:
                    upload = {"href": f"{self.base}/lfs-upload/{upload_id}"}
                objects.append({"oid": oid, "size": size, "authenticated": True,
                                "actions": {"upload": upload, "verify": verify}})
        self._json(200, {"transfer": "basic", "objects": objects, "hash_algo": "sha256"})

    def _store_lfs(self, upload_id: str, data: bytes) -> None:
        oid, size = self.state.uploads.pop(upload_id)
        if len(data) != size or hashlib.sha256(data).hexdigest() != oid:
            raise HubError(400, f"uploaded content does not match oid {oid} / size {size}")
        self.state.lfs[oid] = data

    def _lfs_put(self, upload_id: str) -> None:
        data = self._body()
        with self.state.lock:
            if upload_id not in self.state.uploads:
                raise HubError(403, "unknown or expired upload URL")
            self._store_lfs(upload_id, data)
        self._send(200, b"")

    def _lfs_part(self, upload_id: str, part: int) -> None:
        data = self._body()
        with self.state.lock:
            if upload_id not in self.state.uploads:
                raise HubError(403, "unknown or expired upload URL")
            self.state.parts.setdefault(upload_id, {})[part] = data
        self._send(200, b"", {"ETag": f'"{hashlib.md5(data).hexdigest()}"'})

    def _lfs_complete(self, upload_id: str) -> None:
        payload = json.loads(self._body() or b"{}")
        with self.state.lock:
            if upload_id not in self.state.uploads:
                raise HubError(403, "unknown or expired upload URL")
            parts = self.state.parts.pop(upload_id, {})
            declared = payload.get("parts", [])
            if [p["partNumber"] for p in declared] != sorted(parts) or any(
                    p["etag"].strip('"') != hashlib.md5(parts[p["partNumber"]]).hexdigest() for p in declared):
                raise HubError(400, "multipart completion does not list the uploaded parts and their etags")
            if payload.get("oid") != self.state.uploads[upload_id][0]:
                raise HubError(400, "multipart completion names another oid")
            self._store_lfs(upload_id, b"".join(parts[i] for i in sorted(parts)))
        self._json(200, {})

    def _lfs_verify(self, repo_type: str, repo_id: str) -> None:
        payload = json.loads(self._body() or b"{}")
        with self.state.lock:
            self._repo(repo_type, repo_id, write=True)
            data = self.state.lfs.get(payload.get("oid", ""))
            if data is None or len(data) != payload.get("size"):
                raise HubError(404, "LFS object not found")
        self._json(200, {})

    def _commit_route(self, repo_type: str, repo_id: str, rev: str) -> None:
        lines = [json.loads(ln) for ln in self._body().splitlines() if ln.strip()]
        with self.state.lock:
            repo = self._repo(repo_type, repo_id, write=True)
            branch = rev[len("refs/heads/"):] if rev.startswith("refs/heads/") else rev
            if branch not in repo.branches:
                raise HubError(404, f"Invalid rev id: {rev} (commits go to branches)", "RevisionNotFound")
            head = repo.commits[repo.branches[branch]]
            if not lines or lines[0].get("key") != "header":
                raise HubError(400, "the commit payload must start with a header line")
            header = lines[0]["value"]
            parent = header.get("parentCommit")
            if parent and not head.oid.startswith(parent):
                raise HubError(412, f"A commit has happened since {parent}; the head of {branch} is {head.oid}")
            files = dict(head.files)
            for line in lines[1:]:
                key, value = line["key"], line["value"]
                path = value["path"]
                if key == "file":
                    data = base64.b64decode(value["content"])
                    if len(data) > REGULAR_MAX:
                        raise HubError(400, f"{path}: files larger than 10 MiB must be stored with LFS")
                    files[path] = Blob(data, False)
                elif key == "lfsFile":
                    data = self.state.lfs.get(value["oid"])
                    if data is None or ("size" in value and len(data) != value["size"]):
                        raise HubError(400, f"{path}: LFS object {value['oid']} was not uploaded")
                    files[path] = Blob(data, True)
                elif key == "deletedFile":
                    if files.pop(path, None) is None:
                        raise HubError(404, f"{path}: no such file to delete", "EntryNotFound")
                elif key == "deletedFolder":
                    prefix = path.rstrip("/") + "/"
                    gone = [p for p in files if p.startswith(prefix)]
                    if not gone:
                        raise HubError(404, f"{path}: no such folder to delete", "EntryNotFound")
                    for p in gone:
                        del files[p]
                else:
                    raise HubError(400, f"unknown commit operation {key!r}")
            oid = self.state.new_commit(repo, head.oid, files, header.get("summary") or "",
                                        header.get("description") or "")
            repo.branches[branch] = oid
        prefix = "" if repo_type == "model" else f"{repo_type}s/"
        self._json(200, {"success": True, "commitOid": oid, "commitUrl": f"{self.base}/{prefix}{repo_id}/commit/{oid}",
                         "hookOutput": "", "pullRequestUrl": None})

    # -- reading ----------------------------------------------------------------------------------------------
    @staticmethod
    def _entries(commit: Commit, path: str, recursive: bool) -> list[dict[str, Any]] | None:
        """Tree entries under ``path`` (folders first at each level, as the Hub lists them), None if no such path."""
        prefix = path.strip("/") + "/" if path.strip("/") else ""
        folders: dict[str, None] = {}
        files = []
        for p in sorted(commit.files):
            if not p.startswith(prefix):
                continue
            rest = p[len(prefix):].split("/")
            for depth in range(1, len(rest)):
                if depth == 1 or recursive:
                    folders[prefix + "/".join(rest[:depth])] = None
            if len(rest) == 1 or recursive:
                files.append(commit.files[p].entry(p))
        if prefix and not folders and not files:
            return None
        dirs = [{"type": "directory", "oid": hashlib.sha1(f"{commit.oid}:{d}".encode()).hexdigest(), "size": 0,
                 "path": d} for d in folders]
        return dirs + files

    def _last_commit(self, commit: Commit) -> dict[str, str]:
        return {"id": commit.oid, "title": commit.title, "date": commit.date}

    def _tree(self, repo_type: str, repo_id: str, rev: str, path: str, query: dict[str, str]) -> None:
        recursive = query.get("recursive", "").lower() in ("true", "1")
        expand = query.get("expand", "").lower() in ("true", "1")
        with self.state.lock:
            repo = self._repo(repo_type, repo_id)
            commit = self._commit(repo, rev)
            entries = self._entries(commit, path, recursive)
        if entries is None:
            raise HubError(404, f"{path} does not exist on {rev}", "EntryNotFound", commit.oid)
        if expand:
            entries = [e | {"lastCommit": self._last_commit(commit)} for e in entries]
        start = int(query.get("cursor") or 0)
        page = entries[start : start + self.state.page_size]
        headers = {}
        if start + self.state.page_size < len(entries):
            nxt = {k: v for k, v in query.items() if k != "cursor"} | {"cursor": str(start + self.state.page_size)}
            url = f"{self.base}{urlsplit(self.path).path}?{urlencode(nxt)}"
            headers["Link"] = f'<{url}>; rel="next"'
        self._json(200, page, headers)

    def _paths_info(self, repo_type: str, repo_id: str, rev: str) -> None:
        body = self._body()
        if (self.headers.get("Content-Type") or "").startswith("application/json"):
            payload = json.loads(body or b"{}")
            paths, expand = payload.get("paths", []), bool(payload.get("expand"))
        else:
            form = parse_qs(body.decode())
            paths, expand = form.get("paths", []), (form.get("expand") or ["False"])[-1].lower() == "true"
        with self.state.lock:
            repo = self._repo(repo_type, repo_id)
            commit = self._commit(repo, rev)
            out = []
            for p in paths:
                p = p.strip("/")
                if p in commit.files:
                    entry = commit.files[p].entry(p)
                elif any(f.startswith(p + "/") for f in commit.files) or p == "":
                    entry = {"type": "directory", "oid": hashlib.sha1(f"{commit.oid}:{p}".encode()).hexdigest(),
                             "size": 0, "path": p}
                else:
                    continue
                if expand:
                    entry["lastCommit"] = self._last_commit(commit)
                out.append(entry)
        self._json(200, out)

    def _resolve(self, repo_type: str, repo_id: str, rev: str, path: str) -> None:
        with self.state.lock:
            repo = self._repo(repo_type, repo_id)
            commit = self._commit(repo, rev)
            blob = commit.files.get(path)
        if blob is None:
            raise HubError(404, f"{path} does not exist on {rev}", "EntryNotFound", commit.oid)
        etag = f'"{blob.sha256 if blob.lfs else blob.oid}"'
        headers = {"X-Repo-Commit": commit.oid, "ETag": etag, "Accept-Ranges": "bytes"}
        if blob.lfs:
            headers |= {"X-Linked-Etag": etag, "X-Linked-Size": str(len(blob.data))}
        data = blob.data
        rng = re.fullmatch(r"bytes=(\d*)-(\d*)", self.headers.get("Range") or "")
        if rng and (rng.group(1) or rng.group(2)):
            size = len(data)
            if rng.group(1):
                start, end = int(rng.group(1)), min(int(rng.group(2) or size - 1), size - 1)
            else:
                start, end = max(size - int(rng.group(2)), 0), size - 1
            if start >= size:
                return self._send(416, b"", headers | {"Content-Range": f"bytes */{size}"})
            headers["Content-Range"] = f"bytes {start}-{end}/{size}"
            return self._send(206, data[start : end + 1], headers, "application/octet-stream")
        self._send(200, data, headers, "application/octet-stream")


class HubHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, state: HubState):
        super().__init__(("127.0.0.1", 0), Handler)
        self.state = state


class HubServer:
    """Start with ``start()`` (a random free port on 127.0.0.1), read ``url``, stop with ``stop()``."""

    def __init__(self, tokens: dict[str, str], page_size: int = 4):
        self.state = HubState(tokens, page_size)
        self._httpd: HubHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._httpd is not None
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> HubServer:
        self._httpd = HubHTTPServer(self.state)
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="test-hub", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join(timeout=5)
            self._httpd = None

    def repo(self, repo_id: str, repo_type: str = "dataset") -> Repo:
        return self.state.repos[(repo_type, repo_id)]

    def files_at(self, repo_id: str, rev: str, repo_type: str = "dataset") -> dict[str, bytes]:
        commit = self.repo(repo_id, repo_type).resolve(rev)
        assert commit is not None, rev
        return {p: b.data for p, b in commit.files.items()}

    def requests(self, since: int = 0) -> list[tuple[str, str, int]]:
        return list(self.state.log[since:])


def client_env(hub: HubServer, home: Path, token: str | None = None) -> dict[str, str]:
    """The environment for real ``huggingface_hub``/``datasets`` clients that may talk to ``hub`` only: this
    process's environment without ``HF_*`` and proxy settings, then the local endpoint, online, a fresh
    ``HF_HOME``/``HF_DATASETS_CACHE``/``TMPDIR`` under ``home``, Xet off (the server speaks plain LFS only), and the
    proxies pointing at the server, so any request meant for another host is refused and recorded in ``outside``."""
    proxies = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_") and k.lower() not in proxies}
    (home / "tmp").mkdir(parents=True, exist_ok=True)
    env.update(
        HF_ENDPOINT=hub.url, HF_HUB_OFFLINE="0", HF_DATASETS_OFFLINE="0", HF_HOME=str(home / "hf"),
        HF_DATASETS_CACHE=str(home / "datasets"), HF_HUB_DISABLE_XET="1", HF_HUB_DISABLE_TELEMETRY="1",
        HF_UPDATE_DOWNLOAD_COUNTS="0", HF_HUB_DISABLE_PROGRESS_BARS="1", HF_DATASETS_DISABLE_PROGRESS_BARS="1",
        HTTP_PROXY=hub.url, HTTPS_PROXY=hub.url, NO_PROXY="127.0.0.1,localhost", TMPDIR=str(home / "tmp"),
    )
    if token is not None:
        env["HF_TOKEN"] = token
    return env


def serving(tokens: dict[str, str], *, may_reach: str = "") -> Iterator[HubServer]:
    """The body of a pytest fixture: a started server, stopped afterwards, failing the fixture on any server error
    or any request meant for another host (but those whose text contains ``may_reach``, when given)."""
    server = HubServer(tokens).start()
    yield server
    server.stop()
    assert server.state.errors == [], server.state.errors[0]
    others = [r for r in server.state.outside if not (may_reach and may_reach in r)]
    assert others == [], others


__all__ = ["HubServer", "client_env", "serving"]
