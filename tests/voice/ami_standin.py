"""A stand-in for Asterisk's manager interface (AMI) on a local port, speaking its documented
protocol: the banner, `Key: Value` lines ending in a blank line, Login, Ping, Logoff, and
Originate answered "successfully queued". It keeps each Originate so the test can play the
exchange's next part: connecting the answered call to the line over AudioSocket."""

from __future__ import annotations

import asyncio


class AmiStandIn:
    def __init__(self, username: str, secret: str) -> None:
        self.username = username
        self.secret = secret
        self.originates: asyncio.Queue[dict[str, str]] = asyncio.Queue()
        self.logins: list[bool] = []
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"Asterisk Call Manager/7.0.3\r\n")
        await writer.drain()
        try:
            while True:
                action = await self._read_action(reader)
                if action is None:
                    return
                name = action.get("action", "").lower()
                aid = action.get("actionid", "")
                if name == "login":
                    ok = action.get("username") == self.username and action.get("secret") == self.secret
                    self.logins.append(ok)
                    if ok:
                        self._send(
                            writer, {"Response": "Success", "ActionID": aid, "Message": "Authentication accepted"}
                        )
                        self._send(
                            writer, {"Event": "FullyBooted", "Privilege": "system,all", "Status": "Fully Booted"}
                        )
                    else:
                        self._send(writer, {"Response": "Error", "ActionID": aid, "Message": "Authentication failed"})
                elif name == "originate":
                    await self.originates.put(action)
                    self._send(
                        writer, {"Response": "Success", "ActionID": aid, "Message": "Originate successfully queued"}
                    )
                elif name == "ping":
                    self._send(writer, {"Response": "Success", "ActionID": aid, "Ping": "Pong"})
                elif name == "logoff":
                    self._send(writer, {"Response": "Goodbye", "ActionID": aid, "Message": "Thanks for all the fish."})
                    return
                else:
                    self._send(writer, {"Response": "Error", "ActionID": aid, "Message": "Invalid/unknown command"})
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    @staticmethod
    async def _read_action(reader: asyncio.StreamReader) -> dict[str, str] | None:
        fields: dict[str, str] = {}
        while True:
            line = await reader.readline()
            if not line:
                return None
            text = line.decode().rstrip("\r\n")
            if not text:
                if fields:
                    return fields
                continue
            key, _, value = text.partition(":")
            fields[key.strip().lower()] = value.strip()

    @staticmethod
    def _send(writer: asyncio.StreamWriter, message: dict[str, str]) -> None:
        writer.write(("".join(f"{k}: {v}\r\n" for k, v in message.items()) + "\r\n").encode())
