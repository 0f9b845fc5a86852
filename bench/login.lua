-- wrk: log in with the benchmark user's form (see bench/apps/auth_kit.py).
wrk.method = "POST"
wrk.body = "username=bench%40example.com&password=correct+horse+battery+staple"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
