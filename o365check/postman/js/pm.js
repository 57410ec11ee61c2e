// o365check: the Postman script sandbox API (pm.*, legacy globals, console), written for o365check.
// Python drives it through globalThis.__o365: begin(context) -> the script runs -> takeWork() /
// deliver*() while requests or timers are pending -> finish() returns the outcome as JSON.
// Nothing here can reach files or the network: bare QuickJS (no std/os modules) has neither, and
// pm.sendRequest only queues a request that Python performs.
(function (root) {
    'use strict';

    var E = root.__o365expect;
    var expect = E.expect;
    var state = null; // one script execution at a time

    // ---- APIs we do not provide fail loudly, naming the API ----
    function notSupported(path) {
        var error = new Error(path + ' is not supported by o365check');
        error.name = 'NotSupportedError';
        return error;
    }
    var INERT_KEYS = { toJSON: 1, then: 1, constructor: 1, inspect: 1, prototype: 1 };
    function unsupported(path) {
        var fail = function () { throw notSupported(path); };
        return new Proxy(function () {}, {
            get: function (target, key) {
                if (typeof key === 'symbol') { fail(); }
                if (INERT_KEYS[key]) { return undefined; }
                throw notSupported(path + '.' + String(key)); // e.g. pm.cookies.jar, process.env
            },
            apply: fail, construct: fail, set: fail
        });
    }
    // Known objects answer unknown members with a named "not supported" error.
    function guarded(path, target) {
        return new Proxy(target, {
            get: function (t, key, receiver) {
                if (typeof key === 'symbol' || key in t || INERT_KEYS[key]) { return Reflect.get(t, key, receiver); }
                return unsupported(path + '.' + key);
            }
        });
    }

    // ---- value formatting for console.* ----
    function formatArgs(args) {
        return Array.prototype.map.call(args, function (a) {
            return typeof a === 'string' ? a : E.inspect(a);
        }).join(' ');
    }

    // ---- variables ----
    var own = function (o, k) { return Object.prototype.hasOwnProperty.call(o, k); };
    var TABLES = root.__o365tables; // from Python (scripts.py): one source for both languages
    var PRECEDENCE = TABLES.scopePrecedence;

    function uuid4() {
        return 'xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx'.replace(/[xy]/g, function (c) {
            var r = Math.random() * 16 | 0;
            return (c === 'x' ? r : (r & 0x3 | 0x8)).toString(16);
        });
    }
    // Postman's dynamic variables: the recipes of dynamic.py (one table for requests and scripts),
    // filled here field by field exactly as dynamic.py fills them; unknown names stay verbatim.
    var FIELD = new RegExp(TABLES.fieldPattern, 'g');
    function pick(list) { return list[Math.floor(Math.random() * list.length)]; }
    function randint(a, b) { return a + Math.floor(Math.random() * (b - a + 1)); }
    function isoAt(ms) { return new Date(ms).toISOString(); }
    var ALPHABETS = { alnum: 'abcdefghijklmnopqrstuvwxyz0123456789', hex: '0123456789abcdef',
        letters: 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789' };
    function fillField(match, kind, a, b, textCase) {
        var value, i;
        if (own(TABLES.wordLists, kind)) { value = pick(TABLES.wordLists[kind]); }
        else if (kind === 'uuid') { value = uuid4(); }
        else if (kind === 'unix') { value = String(Math.floor(Date.now() / 1000)); }
        else if (kind === 'iso') { value = isoAt(Date.now()); }
        else if (kind === 'date') { value = isoAt(Date.now() + randint(Number(a), Number(b)) * 86400000); }
        else if (kind === 'int') { value = String(randint(Number(a), Number(b))); }
        else if (kind === 'bool') { value = pick(['true', 'false']); }
        else { for (value = '', i = 0; i < Number(a); i++) { value += pick(ALPHABETS[kind] || ALPHABETS.letters); } }
        if (textCase === 'lower') { return value.toLowerCase(); }
        return textCase === 'title' ? value.charAt(0).toUpperCase() + value.slice(1).toLowerCase() : value;
    }
    function dynamicValue(name) {
        return own(TABLES.dynamicVariables, name) ? TABLES.dynamicVariables[name].replace(FIELD, fillField) : null;
    }

    // Resolve {{name}} repeatedly (nested variables), like Postman, at most TABLES.maxSubstitutionPasses times.
    function replaceIn(template, lookup) {
        if (typeof template !== 'string') {
            if (template && typeof template === 'object') {
                return JSON.parse(replaceIn(JSON.stringify(template), lookup));
            }
            return template;
        }
        var out = template;
        for (var pass = 0; pass < TABLES.maxSubstitutionPasses; pass++) {
            var changed = false;
            out = out.replace(/\{\{([^{}]*?)\}\}/g, function (match, name) {
                var found = lookup(name);
                // postman-collection: undefined resolves to '', null to 'null' (measured with Newman 6.2.2)
                if (found.has) { changed = true; return found.value === undefined ? '' : String(found.value); }
                var dynamic = dynamicValue(name);
                if (dynamic !== null) { changed = true; return dynamic; }
                return match;
            });
            if (!changed) { break; }
        }
        return out;
    }

    function VariableScope(values) { this._values = values; }
    VariableScope.prototype.get = function (key) { return own(this._values, key) ? this._values[key] : undefined; };
    VariableScope.prototype.has = function (key) { return own(this._values, key); };
    VariableScope.prototype.set = function (key, value) {
        if (typeof key !== 'string' || key === '') {
            throw new TypeError('variable name must be a non-empty string, got ' + E.display(key));
        }
        this._values[key] = value;
    };
    VariableScope.prototype.unset = function (key) { delete this._values[key]; };
    VariableScope.prototype.clear = function () {
        var v = this._values;
        Object.keys(v).forEach(function (k) { delete v[k]; });
    };
    VariableScope.prototype.toObject = function () { return Object.assign({}, this._values); };
    VariableScope.prototype.toJSON = VariableScope.prototype.toObject;
    VariableScope.prototype.replaceIn = function (template) {
        var values = this._values;
        return replaceIn(template, function (name) { return { has: own(values, name), value: values[name] }; });
    };

    // pm.variables: reads with Postman's precedence, writes the local scope.
    function MergedScope(scopes) { this._scopes = scopes; }
    MergedScope.prototype.lookup = function (key) {
        for (var i = 0; i < PRECEDENCE.length; i++) {
            var s = this._scopes[PRECEDENCE[i]];
            if (own(s, key)) { return { has: true, value: s[key] }; }
        }
        return { has: false };
    };
    MergedScope.prototype.get = function (key) { return this.lookup(key).value; };
    MergedScope.prototype.has = function (key) { return this.lookup(key).has; };
    MergedScope.prototype.set = function (key, value) { VariableScope.prototype.set.call({ _values: this._scopes.local }, key, value); };
    MergedScope.prototype.unset = function (key) { delete this._scopes.local[key]; };
    MergedScope.prototype.toObject = function () {
        var out = {}, scopes = this._scopes;
        PRECEDENCE.slice().reverse().forEach(function (name) { Object.assign(out, scopes[name]); });
        return out;
    };
    MergedScope.prototype.replaceIn = function (template) {
        var self = this;
        return replaceIn(template, function (name) { return self.lookup(name); });
    };

    // ---- headers, URLs, requests, responses ----
    function HeaderList(list) {
        this._list = (list || []).map(function (h) { return Object.assign({}, h); });
    }
    HeaderList.prototype._find = function (key) {
        var low = String(key).toLowerCase();
        for (var i = this._list.length - 1; i >= 0; i--) {
            if (!this._list[i].disabled && String(this._list[i].key).toLowerCase() === low) { return this._list[i]; }
        }
        return undefined;
    };
    HeaderList.prototype.get = function (key) { var h = this._find(key); return h ? h.value : undefined; };
    HeaderList.prototype.one = function (key) { return this._find(key); };
    HeaderList.prototype.has = function (key, value) {
        var h = this._find(key);
        return !!h && (arguments.length < 2 || h.value === value);
    };
    HeaderList.prototype.add = function (header) {
        if (typeof header === 'string') {
            var at = header.indexOf(':');
            header = { key: header.slice(0, at).trim(), value: header.slice(at + 1).trim() };
        }
        this._list.push({ key: header.key, value: header.value });
    };
    HeaderList.prototype.upsert = function (header) {
        var h = this._find(header.key);
        if (h) { h.value = header.value; } else { this.add(header); }
    };
    HeaderList.prototype.remove = function (key) {
        var low = String(key).toLowerCase();
        this._list = this._list.filter(function (h) { return String(h.key).toLowerCase() !== low; });
    };
    HeaderList.prototype.all = function () { return this._list.slice(); };
    HeaderList.prototype.each = function (fn) { this._list.forEach(fn); };
    HeaderList.prototype.count = function () { return this._list.length; };
    HeaderList.prototype.toObject = function () {
        var out = {};
        this._list.forEach(function (h) { if (!h.disabled) { out[h.key] = h.value; } });
        return out;
    };
    HeaderList.prototype.toJSON = function () { return this.all(); };

    function QueryList(pairs) { this._list = pairs; }
    QueryList.prototype = Object.create(HeaderList.prototype);
    QueryList.prototype._find = function (key) {
        for (var i = this._list.length - 1; i >= 0; i--) {
            if (!this._list[i].disabled && this._list[i].key === key) { return this._list[i]; }
        }
        return undefined;
    };
    QueryList.prototype.remove = function (key) { this._list = this._list.filter(function (q) { return q.key !== key; }); };

    function decode(s) { try { return decodeURIComponent(s.replace(/\+/g, ' ')); } catch (e) { return s; } }

    function Url(raw) {
        raw = String(raw);
        var hashAt = raw.indexOf('#');
        this.hash = hashAt === -1 ? '' : raw.slice(hashAt + 1);
        if (hashAt !== -1) { raw = raw.slice(0, hashAt); }
        var qAt = raw.indexOf('?');
        this._base = qAt === -1 ? raw : raw.slice(0, qAt);
        var query = qAt === -1 ? '' : raw.slice(qAt + 1);
        this.query = new QueryList(query ? query.split('&').map(function (part) {
            var eq = part.indexOf('=');
            return eq === -1 ? { key: decode(part), value: null } : { key: decode(part.slice(0, eq)), value: decode(part.slice(eq + 1)) };
        }) : []);
        var m = /^(?:([a-z][a-z0-9+.-]*):\/\/)?([^/:]*)(?::(\d+))?(\/.*)?$/i.exec(this._base) || [];
        this.protocol = m[1];
        this.host = (m[2] || '').split('.');
        this.port = m[3];
        this.path = (m[4] || '').split('/').filter(function (p) { return p !== ''; });
    }
    // Postman's query encode set (postman-url-encoder): controls, space, " # & ' < > and non-ASCII
    // (plus = in keys). Everything else, {{variables}} included, stays as written so the runner can
    // still resolve variables a pre-request script set.
    function encodeQueryPart(text, isKey) {
        return String(text).replace(isKey ? /[\x00-\x20"#&'<=>\x7f]|[^\x00-\x7f]+/g : /[\x00-\x20"#&'<>\x7f]|[^\x00-\x7f]+/g,
            function (c) { try { return encodeURIComponent(c); } catch (e) { return c; } });
    }
    Url.prototype.getQueryString = function () {
        return this.query._list.filter(function (q) { return !q.disabled; }).map(function (q) {
            return q.value === null || q.value === undefined ? encodeQueryPart(q.key, true)
                : encodeQueryPart(q.key, true) + '=' + encodeQueryPart(q.value, false);
        }).join('&');
    };
    Url.prototype.toString = function () {
        var qs = this.getQueryString();
        return this._base + (qs ? '?' + qs : '') + (this.hash ? '#' + this.hash : '');
    };
    Url.prototype.toJSON = Url.prototype.toString;
    Url.prototype.getHost = function () { return this.host.join('.'); };
    Url.prototype.getPath = function () { return '/' + this.path.join('/'); };

    function Request(spec) {
        var url = new Url(spec.url || '');
        this._spec = spec;
        this.method = String(spec.method || 'GET').toUpperCase();
        this.headers = new HeaderList(spec.headers);
        this.body = spec.body === undefined ? null : spec.body;
        Object.defineProperty(this, 'url', {
            enumerable: true,
            get: function () { return url; },
            set: function (value) { url = value instanceof Url ? value : new Url(typeof value === 'object' && value && value.raw ? value.raw : value); }
        });
    }
    Request.prototype.toJSON = function () {
        return Object.assign({}, this._spec, {
            url: this.url.toString(), method: this.method, headers: this.headers.all(), body: this.body
        });
    };

    function JSONError(message) {
        this.name = 'JSONError';
        this.message = message;
        Error.captureStackTrace(this, JSONError); // the stack names the script line that called json()
    }
    JSONError.prototype = Object.create(Error.prototype);

    // The response's cookies (postman-collection CookieList): read from its Set-Cookie headers.
    function CookieList(headers) {
        var list = this._list = [];
        headers.all().forEach(function (h) {
            if (String(h.key).toLowerCase() !== 'set-cookie') { return; }
            // requests joins repeated Set-Cookie headers with ", "; a date's comma is not followed by name=
            String(h.value).split(/,(?=\s*[^;,=\s]+=)/).forEach(function (text) {
                var parts = text.split(';'), first = parts.shift(), at = first.indexOf('=');
                if (at < 1) { return; }
                var cookie = { name: first.slice(0, at).trim(), value: first.slice(at + 1).trim() };
                parts.forEach(function (p) {
                    var eq = p.indexOf('='), k = (eq === -1 ? p : p.slice(0, eq)).trim().toLowerCase();
                    var v = eq === -1 ? true : p.slice(eq + 1).trim();
                    if (k === 'httponly') { cookie.httpOnly = true; } else if (k) { cookie[k] = v; }
                });
                list.push(cookie);
            });
        });
    }
    CookieList.prototype.one = function (name) {
        for (var i = this._list.length - 1; i >= 0; i--) { if (this._list[i].name === name) { return this._list[i]; } }
        return undefined;
    };
    CookieList.prototype.get = function (name) { var c = this.one(name); return c ? c.value : undefined; };
    CookieList.prototype.has = function (name, value) {
        var c = this.one(name);
        return !!c && (arguments.length < 2 || c.value === value);
    };
    CookieList.prototype.all = function () { return this._list.slice(); };
    CookieList.prototype.count = function () { return this._list.length; };
    CookieList.prototype.each = function (fn) { this._list.forEach(fn); };
    CookieList.prototype.toObject = function () {
        var out = {};
        this._list.forEach(function (c) { out[c.name] = c.value; });
        return out;
    };
    CookieList.prototype.toJSON = CookieList.prototype.all;

    function Response(spec) {
        this.code = spec.code;
        this.status = spec.status;
        this.headers = new HeaderList(spec.headers);
        this.cookies = new CookieList(this.headers);
        this.responseTime = spec.responseTime;
        this.responseSize = spec.responseSize;
        this._body = spec.body === null || spec.body === undefined ? '' : String(spec.body);
    }
    Response.prototype.size = function () {
        var body = this.responseSize || 0;
        return { body: body, header: 0, total: body };
    };
    Response.prototype.text = function () { return this._body; };
    Response.prototype.json = function () {
        try { return JSON.parse(this._body); } catch (e) { throw new JSONError(e.message); }
    };
    Response.prototype.reason = function () { return this.status; };
    Response.prototype.details = function () { return { code: this.code, name: this.status }; };
    Object.defineProperty(Response.prototype, 'to', { get: function () { return expect(this).to; } });
    root.__o365isResponse = function (v) { return v instanceof Response; };

    // pm.sendRequest takes a URL string or a request definition as postman-collection's Request
    // does (url string/object/Url, method, header as list/object/"K: v" lines, body modes, auth).
    // Python parses the definition as it parses a collection's request; variables are not resolved
    // (postman-runtime sends it through `httprequest`, which skips resolution).
    function normaliseSendRequest(req) {
        if (typeof req === 'string' || req instanceof Url) { return { url: String(req), method: 'GET' }; }
        if (req instanceof Request) { req = req.toJSON(); }
        if (!req || typeof req !== 'object') { throw new TypeError('pm.sendRequest needs a URL or a request object, got ' + E.display(req)); }
        var out = {};
        Object.keys(req).forEach(function (k) { out[k] = req[k]; });
        out.url = req.url instanceof Url ? req.url.toString() : req.url === undefined || req.url === null ? '' : req.url;
        out.method = String(req.method || 'GET').toUpperCase();
        var header = req.header !== undefined ? req.header : req.headers;
        if (header instanceof HeaderList) { header = header.all(); }
        if (header && typeof header === 'object' && !Array.isArray(header)) {
            header = Object.keys(header).map(function (k) { return { key: k, value: header[k] }; });
        }
        if (Array.isArray(header)) {
            header = header.map(function (h) {
                if (typeof h === 'string') { var at = h.indexOf(':'); return { key: h.slice(0, at).trim(), value: h.slice(at + 1).trim() }; }
                return h;
            });
        }
        if (header !== undefined) { out.header = header; }
        delete out.headers;
        if (typeof req.body === 'string') { out.body = { mode: 'raw', raw: req.body }; }
        return JSON.parse(JSON.stringify(out));
    }

    // ---- the sandbox's libraries (bundled by tools/fetch_script_libraries.py) ----
    // scripts.py evaluates a bundle into `libs` before the first script that names it.
    var libs = {};
    var sources = {}; // library name -> bundle text, for require() with a computed name
    var LIBRARIES_MISSING = ': the script libraries are not built (run `python tools/fetch_script_libraries.py`; `make install` does)';
    var libraryNames = []; // every name require() knows, set by scripts.py
    var allowedGlobals = []; // uniscope's allowed globals, passed to scripts as parameters
    function requireModule(name) {
        name = String(name);
        if (own(libs, name)) { return libs[name]; }
        if (own(sources, name)) { // handed over as text for a require() with a computed name
            var text = sources[name];
            delete sources[name];
            libs[name] = (0, eval)('(' + text + '\n)'); // the bundle is one expression
            return libs[name];
        }
        if (libraryNames.indexOf(name) !== -1) {
            throw notSupported("require('" + name + "') failed" + (libraryNames.built ? ': library not loaded' : LIBRARIES_MISSING));
        }
        var error = new Error("Cannot find module '" + name + "'"); // browserify's message, as in Newman
        error.code = 'MODULE_NOT_FOUND';
        throw error;
    }
    // postman-sandbox's legacy globals (lib/sandbox/postman-legacy-interface.js scopeLibraries)
    var LEGACY_LIBRARIES = {
        _: '@legacy/lodash3', CryptoJS: 'crypto-js', atob: 'atob', btoa: 'btoa', tv4: 'tv4',
        xml2Json: '@legacy/xml2Json', Backbone: 'backbone', cheerio: 'cheerio'
    };
    function legacyLibrary(name) {
        var module = LEGACY_LIBRARIES[name];
        return own(libs, module) ? libs[module] : unsupported(name + LIBRARIES_MISSING);
    }
    // Using a legacy global logs postman-sandbox's deprecation warning, once per script and name.
    var LEGACY_ALTERNATIVES = {
        tests: 'pm.test()', globals: 'pm.globals', environment: 'pm.environment', data: 'pm.iterationData',
        request: 'pm.request', responseCookies: 'pm.cookies', responseHeaders: 'pm.response.headers',
        responseTime: 'pm.response.responseTime', responseCode: 'pm.response.code',
        responseBody: 'pm.response.text()', iteration: 'pm.info.iteration', _: "require('lodash')",
        CryptoJS: "require('crypto-js')", atob: "require('atob')", btoa: "require('btoa')", tv4: "require('ajv')",
        xml2Json: "require('xml2js')", Backbone: "require('backbone')", cheerio: "require('cheerio')",
        'postman.setNextRequest': 'pm.execution.setNextRequest()'
    };
    function deprecated(key, value, warned) {
        if (!value || (typeof value !== 'object' && typeof value !== 'function')) { return value; }
        var warn = function () {
            // postman-sandbox reports any use of `postman` as postman.setNextRequest
            var name = key === 'postman' ? 'postman.setNextRequest' : key;
            if (!state || warned[name] || state.finished) { return; }
            warned[name] = true;
            state.console.push(['warn', 'Using "' + name + '" is deprecated. Use "' + LEGACY_ALTERNATIVES[name] + '" instead.']);
        };
        return new Proxy(value, {
            get: function (target, prop) { warn(); return target[prop]; },
            set: function (target, prop, v) { warn(); target[prop] = v; return true; },
            apply: function (target, self, args) { warn(); return target.apply(self, args); }
        });
    }
    // legacy `request.headers`: postman-collection's headers.toObject(true, false, true, true)
    function legacyHeaders(headers) {
        var out = {};
        headers.all().forEach(function (h) {
            if (h.disabled || !h.key) { return; }
            var k = String(h.key).toLowerCase();
            if (own(out, k)) { out[k] = [].concat(out[k], h.value); } else { out[k] = h.value; }
        });
        return out;
    }
    // legacy `request.data` (postman-legacy-interface getRequestBody): form fields as an object, raw as text
    function legacyBody(body) {
        if (!body || !body.mode) { return {}; }
        if (body.mode === 'raw') { return body.raw || {}; }
        if (body.mode === 'file') { return (body.file && body.file.content) || {}; }
        var fields = body[body.mode];
        if (!Array.isArray(fields)) { return {}; }
        var out = {};
        fields.forEach(function (f) {
            if (f.disabled) { return; }
            if (own(out, f.key) && out[f.key]) { out[f.key] = [].concat(out[f.key], f.value); } else { out[f.key] = f.value; }
        });
        return out;
    }

    // A variable set to undefined crosses to Python as this marker (kept undefined in the local
    // scope; other scopes store it as null, as postman-runtime does).
    var UNDEFINED_MARKER = '__o365check_undefined__';
    function fromPython(values) {
        var out = Object.assign({}, values);
        Object.keys(out).forEach(function (k) {
            if (out[k] && typeof out[k] === 'object' && out[k][UNDEFINED_MARKER] === 1) { out[k] = undefined; }
        });
        return out;
    }
    function toPython(scopes) {
        var out = {};
        Object.keys(scopes).forEach(function (name) {
            var values = scopes[name], copy = {};
            Object.keys(values).forEach(function (k) {
                var v = values[k];
                if (v === undefined) { v = name === 'local' ? { __o365check_undefined__: 1 } : null; }
                copy[k] = v;
            });
            out[name] = copy;
        });
        return out;
    }

    // ---- timers: queued; Python fires them in due order without waiting ----
    function makeTimers(s) {
        function add(fn, delay, args, every) {
            if (typeof fn !== 'function') { throw new TypeError('timer callback must be a function, got ' + E.display(fn)); }
            var id = s.nextId++;
            var timer = { id: id, due: (s.clock || 0) + (Number(delay) || 0), every: every, fn: function () { fn.apply(null, args); } };
            s.timers.push(timer);
            return id;
        }
        function clear(id) { s.timers = s.timers.filter(function (t) { return t.id !== id; }); }
        return {
            setTimeout: function (fn, delay) { return add(fn, delay, Array.prototype.slice.call(arguments, 2), 0); },
            setInterval: function (fn, delay) { return add(fn, delay, Array.prototype.slice.call(arguments, 2), Math.max(Number(delay) || 0, 1)); },
            setImmediate: function (fn) { return add(fn, 0, Array.prototype.slice.call(arguments, 1), 0); },
            clearTimeout: clear, clearInterval: clear, clearImmediate: clear
        };
    }
    // Libraries log through the global console (ajv's logger); Newman does not show that output.
    root.console = { log: function () {}, info: function () {}, warn: function () {}, error: function () {}, debug: function () {} };
    // Libraries loaded into the context (browserify's process shim, xml2js...) find timers on the
    // global object; they act on the script running at the time.
    ['setTimeout', 'setInterval', 'setImmediate', 'clearTimeout', 'clearInterval', 'clearImmediate'].forEach(function (name) {
        root[name] = function () {
            if (!state) { throw notSupported(name + ' outside a script'); }
            return state.timerApi[name].apply(null, arguments);
        };
    });

    // ---- building the script's world ----
    function begin(ctx) {
        var scopes = {};
        PRECEDENCE.forEach(function (name) { scopes[name] = fromPython((ctx.scopes || {})[name] || {}); });
        var s = state = {
            ctx: ctx, scopes: scopes, tests: [], legacyTests: {}, console: [], error: null,
            nextRequest: null, nextRequestSet: false, skipRequest: false,
            pending: [], timers: [], callbacks: {}, nextId: 1, clock: 0
        };
        var timers = s.timerApi = makeTimers(s);
        var request = s.request = new Request(ctx.request || {});
        var response = s.response = ctx.response ? new Response(ctx.response) : undefined;

        function setNextRequest(name) { s.nextRequest = name === null || name === undefined ? null : String(name); s.nextRequestSet = true; }

        function recordTest(name, fn, skipped) {
            var entry = { name: String(name), passed: false, skipped: !!skipped, error: null };
            s.tests.push(entry);
            if (skipped) { return; }
            var fail = function (e) {
                var stopped = engineStop(e); // a limit hit inside a test still ends the script
                if (stopped) { s.stopped = s.stopped || stopped; }
                entry.passed = false;
                // Assertion failures read as Chai prints them; other errors keep their type name.
                var message = e && e.message !== undefined ? String(e.message) : String(e);
                entry.error = e && e.name && e.name !== 'AssertionError' ? e.name + ': ' + message : message;
            };
            if (typeof fn !== 'function') { fail(new TypeError('pm.test("' + name + '") needs a function')); return; }
            try {
                if (fn.length > 0) { // the test takes `done`: it passes when done() is called without an error
                    entry.passed = false; entry.error = 'test did not call done()';
                    fn(function (err) { if (err) { fail(err); } else { entry.passed = true; entry.error = null; } });
                    return;
                }
                var result = fn();
                entry.passed = true;
                if (result && typeof result.then === 'function') {
                    result.then(null, fail);
                }
            } catch (e) { fail(e); }
        }
        var test = function (name, fn) { recordTest(name, fn, false); };
        test.skip = function (name) { recordTest(name, null, true); };

        var sendRequest = function (req, callback) {
            var id = s.nextId++;
            var resolve, reject;
            var promise = new Promise(function (ok, ko) { resolve = ok; reject = ko; });
            if (typeof callback !== 'function') { promise.catch(function () {}); }
            s.callbacks[id] = function (err, res) {
                if (typeof callback === 'function') { callback(err, res); }
                if (err) { reject(err); } else { resolve(res); }
            };
            s.pending.push({ id: id, request: normaliseSendRequest(req) });
            return promise;
        };

        var info = Object.assign({ eventName: ctx.listen }, ctx.info || {});
        var pm = guarded('pm', {
            info: guarded('pm.info', info),
            test: test,
            expect: expect,
            request: request,
            response: response,
            environment: new VariableScope(scopes.environment),
            collectionVariables: new VariableScope(scopes.collectionVariables),
            globals: new VariableScope(scopes.globals),
            iterationData: new VariableScope(scopes.iterationData),
            variables: new MergedScope(scopes),
            execution: guarded('pm.execution', {
                skipRequest: function () { s.skipRequest = true; },
                setNextRequest: setNextRequest
            }),
            sendRequest: sendRequest,
            // the response's cookies (empty before the request; the cookie jar is not provided)
            cookies: guarded('pm.cookies', response ? response.cookies : new CookieList(new HeaderList([])))
        });

        var legacyResponseHeaders = response ? response.headers.toObject() : undefined;
        // The legacy `environment` and `globals` objects follow the legacy setters (postman-legacy-interface.js).
        var legacyEnvironment = Object.assign({}, scopes.environment), legacyGlobals = Object.assign({}, scopes.globals);
        var legacyValue = function (v) { return (v === false || v) && typeof v.toString === 'function' ? v.toString() : v; };
        var clearAll = function (values) { Object.keys(values).forEach(function (k) { delete values[k]; }); };
        var postman = guarded('postman', {
            setNextRequest: setNextRequest,
            // Legacy setters store truthy values and false as strings, like postman-sandbox.
            setEnvironmentVariable: function (k, v) { v = legacyValue(v); legacyEnvironment[k] = v; scopes.environment[k] = v; },
            getEnvironmentVariable: function (k) { return own(scopes.environment, k) ? scopes.environment[k] : undefined; },
            clearEnvironmentVariable: function (k) { if (k) { delete legacyEnvironment[k]; } delete scopes.environment[k]; },
            clearEnvironmentVariables: function () { clearAll(legacyEnvironment); clearAll(scopes.environment); },
            setGlobalVariable: function (k, v) { v = legacyValue(v); legacyGlobals[k] = v; scopes.globals[k] = v; },
            getGlobalVariable: function (k) { return own(scopes.globals, k) ? scopes.globals[k] : undefined; },
            clearGlobalVariable: function (k) { if (k) { delete legacyGlobals[k]; } delete scopes.globals[k]; },
            clearGlobalVariables: function () { clearAll(legacyGlobals); clearAll(scopes.globals); },
            getResponseHeader: response ? function (name) { return response.headers.get(name); } : undefined
        });
        if (!response) { delete postman.getResponseHeader; }

        var log = function (level) {
            return function () { s.console.push([level, formatArgs(arguments)]); };
        };
        var consoleObject = guarded('console', {
            log: log('log'), info: log('info'), warn: log('warn'), error: log('error'), debug: log('debug'),
            clear: function () {} // postman-sandbox forwards it to the host; Newman prints nothing
        });

        var legacyRequest = {
            id: info.requestId, name: info.requestName, description: undefined,
            headers: legacyHeaders(request.headers), method: request.method, url: request.url.toString(),
            data: legacyBody(request.body)
        };
        var legacy = {
            tests: s.legacyTests, postman: postman,
            responseBody: response ? response.text() : undefined,
            responseCode: response ? { code: response.code, name: response.status, detail: response.status } : undefined,
            responseHeaders: legacyResponseHeaders,
            responseTime: response ? response.responseTime : undefined,
            responseCookies: response ? response.cookies : undefined, // a CookieList, as in postman-sandbox
            request: legacyRequest,
            globals: legacyGlobals, environment: legacyEnvironment,
            data: Object.assign({}, scopes.iterationData),
            iteration: (ctx.info || {}).iteration || 0
        };
        Object.keys(LEGACY_LIBRARIES).forEach(function (name) { legacy[name] = legacyLibrary(name); });
        var warned = {};
        Object.keys(legacy).forEach(function (key) { legacy[key] = deprecated(key, legacy[key], warned); });
        var buffer = own(libs, 'buffer') ? libs.buffer.Buffer : unsupported('Buffer' + LIBRARIES_MISSING);

        // The names and order here must match OUTER_PARAMETERS, SCRIPT_PARAMETERS, ALLOWED_GLOBALS in scripts.py.
        return [
            requireModule, unsupported('XMLHttpRequest'), unsupported('fetch'), unsupported('process'),
            pm, legacy.postman, legacy.tests, consoleObject,
            legacy.responseBody, legacy.responseCode, legacy.responseHeaders, legacy.responseTime,
            legacy.responseCookies, legacy.request, legacy.globals, legacy.environment, legacy.data, legacy.iteration,
            timers.setTimeout, timers.clearTimeout, timers.setInterval, timers.clearInterval,
            timers.setImmediate, timers.clearImmediate, buffer,
            legacy._, legacy.CryptoJS, legacy.tv4, legacy.xml2Json, legacy.cheerio, legacy.atob, legacy.btoa,
            legacy.Backbone
        ].concat(allowedGlobals.map(function (name) { return root[name]; }));
    }

    // QuickJS names every frame's file "<input>" (no sourceURL), so scripts.py loads this library
    // from line LIBRARY_FIRST_LINE on: a frame below it, other than an eval's top level, is the
    // user's script, whose line numbers are the script's own.
    var LIBRARY_FIRST_LINE = TABLES.libraryFirstLine;
    function scriptLine(stack) {
        var frame = /at ([^\n]*?) ?\(<input>:(\d+):\d+\)/g, match;
        while ((match = frame.exec(stack)) !== null) {
            var line = Number(match[2]);
            if (match[1] !== '<eval>' && line < LIBRARY_FIRST_LINE) { return line; }
        }
        return null;
    }

    // QuickJS turns an interrupt (time limit) or out-of-memory inside an async function into a
    // rejection, so it can arrive here; `stopped` tells Python which limit ended the script.
    function engineStop(e) {
        if (!(e instanceof InternalError)) { return null; }
        if (e.message === 'interrupted') { return 'time'; }
        if (e.message === 'out of memory') { return 'memory'; }
        return null;
    }

    function recordError(e) {
        if (!state) { return; }
        var stopped = engineStop(e);
        if (stopped) { state.stopped = state.stopped || stopped; }
        if (state.error) { return; }
        var stack = e && typeof e.stack === 'string' ? e.stack : '';
        state.error = {
            name: e && e.name ? String(e.name) : 'Error',
            message: e && e.message !== undefined ? String(e.message) : String(e),
            line: scriptLine(stack)
        };
    }

    // Runs the compiled script: `fn(outer...)` returns the script's (async) function of the rest.
    var OUTER = 4; // OUTER_PARAMETERS in scripts.py
    function runScript(fn, args) {
        try {
            var result = fn.apply(undefined, args.slice(0, OUTER)).apply(undefined, args.slice(OUTER));
            if (result && typeof result.then === 'function') { result.then(null, recordError); }
        } catch (e) { recordError(e); }
    }

    // Work Python must do next: queued pm.sendRequest calls first, then the earliest timer.
    function takeWork() {
        if (state.stopped) { return JSON.stringify({ stopped: state.stopped }); }
        if (state.pending.length) {
            var requests = state.pending;
            state.pending = [];
            return JSON.stringify({ requests: requests });
        }
        if (state.timers.length) {
            state.timers.sort(function (a, b) { return a.due - b.due; });
            return JSON.stringify({ timer: state.timers[0].id });
        }
        return 'null';
    }

    function guardedCall(fn) {
        try { fn(); } catch (e) { recordError(e); }
    }

    function deliverResponse(id, error, response) {
        var callback = state.callbacks[id];
        delete state.callbacks[id];
        guardedCall(function () {
            callback(error ? Object.assign(new Error(error.message), { name: error.name || 'Error' }) : null,
                error ? undefined : new Response(response));
        });
    }

    function fireTimer(id) {
        var timer = state.timers.filter(function (t) { return t.id === id; })[0];
        state.timers = state.timers.filter(function (t) { return t.id !== id; });
        if (!timer) { return; }
        state.clock = Math.max(state.clock, timer.due);
        if (timer.every) { timer.due += timer.every; state.timers.push(timer); } // setInterval runs again
        guardedCall(timer.fn);
    }

    function finish() {
        var s = state, tests = s.tests.slice();
        Object.keys(s.legacyTests).forEach(function (name) {
            tests.push({ name: name, passed: !!s.legacyTests[name], skipped: false, error: s.legacyTests[name] ? null : 'expected ' + String(s.legacyTests[name]) + ' to be truthy' });
        });
        s.finished = true;
        var out = JSON.stringify({
            tests: tests, console: s.console, scopes: toPython(s.scopes), request: s.request.toJSON(),
            nextRequest: s.nextRequest, nextRequestSet: s.nextRequestSet, skipRequest: s.skipRequest, error: s.error
        });
        state = null;
        return out;
    }

    root.__o365 = {
        begin: begin, runScript: runScript, recordError: recordError, takeWork: takeWork,
        deliverResponse: deliverResponse, fireTimer: fireTimer, finish: finish, libs: libs, sources: sources,
        setAllowedGlobals: function (names) { allowedGlobals = names.slice(); },
        setLibraryNames: function (names, built) { libraryNames = names.slice(); libraryNames.built = built; }
    };
})(globalThis);
