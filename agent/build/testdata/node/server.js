// A fixture app: answers every request with its name on $PORT.
const http = require("node:http");
const port = Number(process.env.PORT ?? 3000);
http.createServer((_req, res) => res.end("fixture-node-app\n")).listen(port);
