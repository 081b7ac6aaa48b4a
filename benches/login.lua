-- wrk script: sign in with the account benches/login.sh registered.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"email": "bench@example.in", "password": "correct horse battery"}'
