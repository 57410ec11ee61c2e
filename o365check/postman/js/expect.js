// o365check: a Chai-style BDD `expect` for Postman scripts, written for o365check.
// It implements the chains real collections use with Chai 4's failure wording, so test names,
// pass/fail and messages match what Newman prints ("expected 401 to equal 202").
// Exposes globalThis.__o365expect = { expect, AssertionError, inspect, isResponse }.
(function (root) {
    'use strict';

    var TRUNCATE = 40; // Chai's default truncateThreshold

    function AssertionError(message) {
        this.name = 'AssertionError';
        this.message = message;
        this.stack = 'AssertionError: ' + message;
    }
    AssertionError.prototype = Object.create(Error.prototype);
    AssertionError.prototype.constructor = AssertionError;

    // ---- display of values in messages (loupe-like, as Chai 4 prints them) ----
    function typeOf(v) {
        if (v === null) { return 'null'; }
        if (Array.isArray(v)) { return 'array'; }
        if (v instanceof RegExp) { return 'regexp'; }
        if (v instanceof Date) { return 'date'; }
        if (v instanceof Error) { return 'error'; }
        if (typeof v === 'object' && root.__o365isResponse && root.__o365isResponse(v)) { return 'object'; }
        return typeof v;
    }

    function quote(s) { return "'" + String(s).replace(/\\/g, '\\\\').replace(/'/g, "\\'") + "'"; }

    function inspect(v, depth) {
        depth = depth || 0;
        var t = typeOf(v);
        if (t === 'string') { return quote(v); }
        if (t === 'number') { return Object.is(v, -0) ? '-0' : String(v); }
        if (t === 'undefined' || t === 'null' || t === 'boolean') { return String(v); }
        if (t === 'bigint') { return String(v) + 'n'; }
        if (t === 'symbol') { return v.toString(); }
        if (t === 'function') { return '[Function' + (v.name ? ' ' + v.name : '') + ']'; }
        if (t === 'regexp') { return String(v); }
        if (t === 'date') { return isNaN(v.getTime()) ? 'Invalid Date' : v.toISOString(); }
        if (t === 'error') { return v.name + ': ' + v.message; }
        if (depth > 2) { return t === 'array' ? '[Array]' : '[Object]'; }
        if (t === 'array') {
            if (v.length === 0) { return '[]'; }
            return '[ ' + v.map(function (x) { return inspect(x, depth + 1); }).join(', ') + ' ]';
        }
        var keys = Object.keys(v);
        if (keys.length === 0) { return '{}'; }
        return '{ ' + keys.map(function (k) {
            var name = /^[A-Za-z_$][\w$]*$/.test(k) ? k : quote(k);
            return name + ': ' + inspect(v[k], depth + 1);
        }).join(', ') + ' }';
    }

    // Chai shortens long objects/arrays in messages; loupe keeps leading items then "…(n)".
    function display(v) {
        var full = inspect(v);
        if (full.length <= TRUNCATE) { return full; }
        var t = typeOf(v);
        if (t === 'array' || (t === 'object' && v !== null)) {
            var keys = t === 'array' ? null : Object.keys(v);
            var items = t === 'array' ? v.map(function (x) { return inspect(x, 1); })
                : keys.map(function (k) { return (/^[A-Za-z_$][\w$]*$/.test(k) ? k : quote(k)) + ': ' + inspect(v[k], 1); });
            var shown = [], len = 4;
            for (var i = 0; i < items.length; i++) {
                if (len + items[i].length > TRUNCATE - 6 && shown.length) { break; }
                shown.push(items[i]); len += items[i].length + 2;
            }
            var rest = items.length - shown.length;
            var body = shown.join(', ') + (rest ? ', …(' + rest + ')' : '');
            return t === 'array' ? '[ ' + body + ' ]' : '{ ' + body + ' }';
        }
        return full;
    }

    // ---- equality ----
    function deepEqual(a, b) {
        if (a === b) { return a !== 0 || 1 / a === 1 / b; }
        if (a !== a && b !== b) { return true; } // NaN
        var ta = typeOf(a), tb = typeOf(b);
        if (ta !== tb) { return false; }
        if (ta === 'date') { return a.getTime() === b.getTime(); }
        if (ta === 'regexp') { return String(a) === String(b); }
        if (ta === 'array') {
            if (a.length !== b.length) { return false; }
            for (var i = 0; i < a.length; i++) { if (!deepEqual(a[i], b[i])) { return false; } }
            return true;
        }
        if (ta === 'object' || ta === 'error') {
            var ka = Object.keys(a).sort(), kb = Object.keys(b).sort();
            if (!deepEqual(ka, kb)) { return false; }
            for (var j = 0; j < ka.length; j++) { if (!deepEqual(a[ka[j]], b[ka[j]])) { return false; } }
            return Object.getPrototypeOf(a) === Object.getPrototypeOf(b);
        }
        return false;
    }

    function fill(template, self, exp, act) {
        return template
            .replace(/#\{this\}/g, function () { return display(self); })
            .replace(/#\{exp\}/g, function () { return display(exp); })
            .replace(/#\{act\}/g, function () { return display(act); });
    }

    // ---- the Assertion object: language chains are getters returning `this` ----
    function Assertion(obj, message) {
        this._obj = obj;
        this._flags = { message: message };
    }

    Assertion.prototype.assert = function (ok, msg, negMsg, exp, act) {
        var negate = !!this._flags.negate;
        if (negate ? ok : !ok) {
            var text = fill(negate ? negMsg : msg, this._obj, exp, arguments.length > 4 ? act : this._obj);
            throw new AssertionError(this._flags.message ? this._flags.message + ': ' + text : text);
        }
    };

    ['to', 'be', 'been', 'is', 'that', 'which', 'and', 'has', 'have', 'with', 'at', 'of', 'same', 'but', 'does', 'still', 'also']
        .forEach(function (word) {
            Object.defineProperty(Assertion.prototype, word, { get: function () { return this; } });
        });

    function flagProperty(name, flag) {
        Object.defineProperty(Assertion.prototype, name, {
            get: function () { this._flags[flag] = true; return this; }
        });
    }
    flagProperty('not', 'negate');
    flagProperty('deep', 'deep');
    flagProperty('nested', 'nested');
    flagProperty('own', 'own');
    flagProperty('any', 'any');
    flagProperty('all', 'all');
    flagProperty('ordered', 'ordered');

    function property(name, fn) {
        Object.defineProperty(Assertion.prototype, name, { get: function () { fn.call(this); return this; } });
    }

    function method(names, fn) {
        [].concat(names).forEach(function (n) { Assertion.prototype[n] = function () { fn.apply(this, arguments); return this; }; });
    }

    // A chainable method works both as a property (`to.include.members`) and a call (`to.include(2)`).
    function chainable(names, fn, onProperty) {
        [].concat(names).forEach(function (n) {
            Object.defineProperty(Assertion.prototype, n, {
                get: function () {
                    var self = this;
                    if (onProperty) { onProperty.call(self); }
                    var call = function () { fn.apply(self, arguments); return self; };
                    return new Proxy(call, {
                        get: function (target, key) {
                            var value = Reflect.get(self, key, self);
                            return typeof value === 'function' && !(key in Assertion.prototype && Object.getOwnPropertyDescriptor(Assertion.prototype, key).get)
                                ? value.bind(self) : value;
                        }
                    });
                }
            });
        });
    }

    // ---- simple property assertions ----
    property('ok', function () {
        if (root.__o365isResponse && root.__o365isResponse(this._obj)) { return responseOk.call(this); }
        this.assert(!!this._obj, 'expected #{this} to be truthy', 'expected #{this} to be falsy');
    });
    property('true', function () {
        this.assert(this._obj === true, 'expected #{this} to be true', 'expected #{this} to be false', !this._flags.negate);
    });
    property('false', function () {
        this.assert(this._obj === false, 'expected #{this} to be false', 'expected #{this} to be true', !!this._flags.negate);
    });
    property('null', function () {
        this.assert(this._obj === null, 'expected #{this} to be null', 'expected #{this} not to be null');
    });
    property('undefined', function () {
        this.assert(this._obj === undefined, 'expected #{this} to be undefined', 'expected #{this} not to be undefined');
    });
    property('NaN', function () {
        this.assert(typeof this._obj === 'number' && isNaN(this._obj), 'expected #{this} to be NaN', 'expected #{this} not to be NaN');
    });
    property('exist', function () {
        this.assert(this._obj !== null && this._obj !== undefined, 'expected #{this} to exist', 'expected #{this} to not exist');
    });
    property('empty', function () {
        var v = this._obj, t = typeOf(v), size;
        if (t === 'string' || t === 'array') { size = v.length; }
        else if (v instanceof Map || v instanceof Set) { size = v.size; }
        else if (t === 'object') { size = Object.keys(v).length; }
        else { throw new TypeError('.empty was passed non-string primitive ' + display(v)); }
        this.assert(size === 0, 'expected #{this} to be empty', 'expected #{this} not to be empty');
    });

    // ---- equality ----
    method(['equal', 'equals', 'eq'], function (exp) {
        if (this._flags.deep) { return eqlAssert.call(this, exp); }
        var act = this._flags.doLength ? lengthOfObj(this._obj) : this._obj;
        this.assert(act === exp, 'expected #{this} to equal #{exp}', 'expected #{this} to not equal #{exp}', exp, act);
    });
    function eqlAssert(exp) {
        this.assert(deepEqual(this._obj, exp), 'expected #{this} to deeply equal #{exp}', 'expected #{this} to not deeply equal #{exp}', exp);
    }
    method(['eql', 'eqls'], eqlAssert);

    // ---- type ----
    chainable(['a', 'an'], function (type) {
        var want = String(type).toLowerCase();
        var article = /^[aeiou]/.test(want) ? 'an ' : 'a ';
        this.assert(typeOf(this._obj) === want, 'expected #{this} to be ' + article + want, 'expected #{this} not to be ' + article + want);
    });
    method(['instanceof', 'instanceOf'], function (ctor) {
        var name = (ctor && ctor.name) || String(ctor);
        this.assert(this._obj instanceof ctor, 'expected #{this} to be an instance of ' + name, 'expected #{this} to not be an instance of ' + name);
    });

    // ---- inclusion ----
    chainable(['include', 'includes', 'contain', 'contains'], function (val) {
        var obj = this._obj, t = typeOf(obj), deep = !!this._flags.deep, self = this;
        var desc = deep ? 'deep include' : 'include';
        if (t === 'string') {
            this.assert(obj.indexOf(val) !== -1, 'expected #{this} to include #{exp}', 'expected #{this} to not include #{exp}', val);
        } else if (t === 'array') {
            var found = obj.some(function (x) { return deep ? deepEqual(x, val) : x === val; });
            this.assert(found, 'expected #{this} to ' + desc + ' #{exp}', 'expected #{this} to not ' + desc + ' #{exp}', val);
        } else if (obj instanceof Set || obj instanceof Map) {
            var vals = Array.from(obj.values());
            this.assert(vals.some(function (x) { return deep ? deepEqual(x, val) : x === val; }),
                'expected #{this} to ' + desc + ' #{exp}', 'expected #{this} to not ' + desc + ' #{exp}', val);
        } else if (t === 'object' && typeOf(val) === 'object') {
            var keys = Object.keys(val);
            var all = keys.every(function (k) { return k in Object(obj) && (deep ? deepEqual(obj[k], val[k]) : obj[k] === val[k]); });
            if (!this._flags.negate && !all) {
                var bad = keys.filter(function (k) { return !(k in Object(obj) && (deep ? deepEqual(obj[k], val[k]) : obj[k] === val[k])); })[0];
                var msg = !(bad in Object(obj)) ? 'expected #{this} to have ' + (deep ? 'deep ' : '') + 'property ' + quote(bad)
                    : 'expected #{this} to have ' + (deep ? 'deep ' : '') + 'property ' + quote(bad) + ' of #{exp}, but got #{act}';
                throw new AssertionError(fill(msg, obj, val[bad], obj[bad]));
            }
            self.assert(all, 'expected #{this} to ' + desc + ' #{exp}', 'expected #{this} to not ' + desc + ' #{exp}', val);
        } else {
            throw new TypeError('the given combination of arguments (' + t + ' and ' + typeOf(val) +
                ') is invalid for this assertion. You can use an array, a map, an object, a set, a string, or a weakset instead of a ' + typeOf(val));
        }
    }, function () { this._flags.contains = true; });

    // ---- properties and length ----
    function pathGet(obj, path) {
        var parts = String(path).replace(/\[(\w+)\]/g, '.$1').split('.');
        var cur = obj;
        for (var i = 0; i < parts.length; i++) {
            if (cur === null || cur === undefined || !(parts[i] in Object(cur))) { return { has: false }; }
            cur = cur[parts[i]];
        }
        return { has: true, value: cur };
    }
    method('property', function (name, val) {
        var flags = this._flags, obj = this._obj, found;
        var kind = (flags.deep ? 'deep ' : '') + (flags.own ? 'own ' : '') + (flags.nested ? 'nested ' : '');
        if (obj === null || obj === undefined) { throw new AssertionError('Target cannot be null or undefined.'); }
        if (flags.nested) { found = pathGet(obj, name); }
        else if (flags.own) { found = { has: Object.prototype.hasOwnProperty.call(obj, name), value: obj[name] }; }
        else { found = { has: name in Object(obj), value: obj[name] }; }
        var hasValue = arguments.length > 1;
        if (!flags.negate || !hasValue) {
            this.assert(found.has, 'expected #{this} to have ' + kind + 'property ' + display(name),
                'expected #{this} to not have ' + kind + 'property ' + display(name));
        }
        if (hasValue) {
            var same = flags.deep ? deepEqual(val, found.value) : val === found.value;
            this.assert(found.has && same,
                'expected #{this} to have ' + kind + 'property ' + display(name) + ' of #{exp}, but got #{act}',
                'expected #{this} to not have ' + kind + 'property ' + display(name) + ' of #{act}', val, found.value);
        }
        this._obj = found.value; // chains after .property() talk about the value
    });
    method(['ownProperty', 'haveOwnProperty'], function (name, val) {
        this._flags.own = true;
        Assertion.prototype.property.apply(this, arguments);
    });

    function lengthOfObj(v) {
        if (v instanceof Map || v instanceof Set) { return v.size; }
        if (v === null || v === undefined || v.length === undefined) {
            throw new AssertionError(display(v) + ' does not have a length property'); // fix: assert on an array or string
        }
        return v.length;
    }
    chainable(['lengthOf', 'length'], function (n) {
        var len = lengthOfObj(this._obj);
        this.assert(len === n, 'expected #{this} to have a length of #{exp} but got #{act}', 'expected #{this} to not have a length of #{act}', n, len);
    }, function () { this._flags.doLength = true; });

    // ---- numbers ----
    function compare(name, test, word, negWord) {
        method(name, function (n) {
            if (this._flags.doLength) {
                var len = lengthOfObj(this._obj);
                this.assert(test(len, n), 'expected #{this} to have a length ' + word + ' #{exp} but got #{act}',
                    'expected #{this} to not have a length ' + word + ' #{exp}', n, len);
                return;
            }
            if (typeof this._obj !== 'number' && !(this._obj instanceof Date)) {
                throw new AssertionError('expected ' + display(this._obj) + ' to be a number or a date');
            }
            this.assert(test(this._obj, n), 'expected #{this} to be ' + word + ' #{exp}', 'expected #{this} to be ' + negWord + ' #{exp}', n);
        });
    }
    compare(['above', 'gt', 'greaterThan'], function (a, b) { return a > b; }, 'above', 'at most');
    compare(['least', 'gte', 'greaterThanOrEqual'], function (a, b) { return a >= b; }, 'at least', 'below');
    compare(['below', 'lt', 'lessThan'], function (a, b) { return a < b; }, 'below', 'at least');
    compare(['most', 'lte', 'lessThanOrEqual'], function (a, b) { return a <= b; }, 'at most', 'above');
    method('within', function (lo, hi) {
        var v = this._flags.doLength ? lengthOfObj(this._obj) : this._obj;
        var range = lo + '..' + hi;
        this.assert(v >= lo && v <= hi, 'expected #{this} to ' + (this._flags.doLength ? 'have a length ' : 'be ') + 'within ' + range,
            'expected #{this} to not ' + (this._flags.doLength ? 'have a length ' : 'be ') + 'within ' + range);
    });
    method(['closeTo', 'approximately'], function (exp, delta) {
        this.assert(Math.abs(this._obj - exp) <= delta, 'expected #{this} to be close to ' + exp + ' +/- ' + delta,
            'expected #{this} not to be close to ' + exp + ' +/- ' + delta);
    });

    // ---- strings, sets ----
    method(['match', 'matches'], function (re) {
        this.assert(re.exec(this._obj) !== null, 'expected #{this} to match ' + re, 'expected #{this} not to match ' + re);
    });
    method('string', function (s) {
        this.assert(String(this._obj).indexOf(s) !== -1, 'expected #{this} to contain ' + display(s), 'expected #{this} to not contain ' + display(s));
    });
    method('oneOf', function (list) {
        var v = this._obj, deep = this._flags.deep;
        this.assert(list.some(function (x) { return deep ? deepEqual(x, v) : x === v; }),
            'expected #{this} to be one of #{exp}', 'expected #{this} to not be one of #{exp}', list);
    });
    method('members', function (set) {
        var obj = this._obj, deep = !!this._flags.deep, flags = this._flags;
        var eq = function (a, b) { return deep ? deepEqual(a, b) : a === b; };
        var isSub = function (sub, sup) {
            var used = [];
            return sub.every(function (x) {
                for (var i = 0; i < sup.length; i++) {
                    if (used.indexOf(i) === -1 && eq(x, sup[i])) { used.push(i); return true; }
                }
                return false;
            });
        };
        var ok, what;
        if (flags.contains) {
            ok = isSub(set, obj); what = 'be a superset of';
        } else {
            ok = obj.length === set.length && isSub(set, obj); what = 'have the same members as';
        }
        if (flags.ordered) { ok = ok && set.every(function (x, i) { return eq(x, obj[i]); }); what = 'have the same ordered members as'; }
        if (deep) { what = what.replace('members', 'deep members').replace('superset of', 'superset of'); }
        this.assert(ok, 'expected #{this} to ' + what + ' #{exp}', 'expected #{this} to not ' + what + ' #{exp}', set);
    });
    method(['keys', 'key'], function () {
        var obj = this._obj, flags = this._flags;
        var want = arguments.length === 1 && Array.isArray(arguments[0]) ? arguments[0]
            : arguments.length === 1 && typeOf(arguments[0]) === 'object' ? Object.keys(arguments[0])
                : Array.prototype.slice.call(arguments);
        var have = obj instanceof Map ? Array.from(obj.keys()) : Object.keys(obj);
        var any = flags.any && !flags.all;
        var ok = any ? want.some(function (k) { return have.indexOf(k) !== -1; })
            : want.every(function (k) { return have.indexOf(k) !== -1; }) && (flags.contains || want.length === have.length);
        var shown = want.map(function (k) { return display(k); });
        var text = shown.length > 1 ? shown.slice(0, -1).join(', ') + (any ? ', or ' : ', and ') + shown[shown.length - 1] : shown[0];
        var verb = any ? 'have any ' : flags.contains ? 'contain ' : 'have ';
        var noun = (want.length > 1 ? 'keys ' : 'key ');
        this.assert(ok, 'expected #{this} to ' + verb + noun + text, 'expected #{this} to not ' + verb + noun + text);
    });
    method('satisfy', function (fn) {
        this.assert(!!fn(this._obj), 'expected #{this} to satisfy ' + inspect(fn), 'expected #{this} to not satisfy ' + inspect(fn));
    });
    method(['throw', 'throws', 'Throw'], function (expected) {
        var thrown = null;
        try { this._obj(); } catch (e) { thrown = e; }
        var ok = thrown !== null;
        if (ok && expected !== undefined) {
            var msg = thrown && thrown.message;
            ok = expected instanceof RegExp ? expected.test(msg)
                : typeof expected === 'string' ? String(msg).indexOf(expected) !== -1
                    : typeof expected === 'function' ? thrown instanceof expected : ok;
        }
        this.assert(ok, 'expected #{this} to throw ' + (expected === undefined ? 'an error' : inspect(expected)),
            'expected #{this} to not throw ' + (expected === undefined ? 'an error' : inspect(expected)));
    });

    // ---- Postman response assertions (chai-postman wording) ----
    function requireResponse(a) {
        if (!(root.__o365isResponse && root.__o365isResponse(a._obj))) {
            throw new AssertionError('expecting a postman response object but got ' + display(a._obj));
        }
        return a._obj;
    }
    function statusClass(name, digit) {
        property(name, function () {
            var r = requireResponse(this), cls = Math.floor(r.code / 100);
            this.assert(cls === digit, 'expected response code to be #{exp}XX but found #{act}', 'expected response code to not be #{exp}XX', digit, r.code);
        });
    }
    statusClass('info', 1); statusClass('success', 2); statusClass('redirection', 3);
    statusClass('clientError', 4); statusClass('serverError', 5);
    property('error', function () {
        var r = requireResponse(this), cls = Math.floor(r.code / 100);
        this.assert(cls === 4 || cls === 5, 'expected response code to be 4XX or 5XX but found #{act}', 'expected response code to not be 4XX or 5XX', null, r.code);
    });
    function assertReasonAndCode(a, reason, code) {
        var r = a._obj, actual = String(r.reason()).toUpperCase();
        a.assert(actual === reason, 'expected response to have status reason #{exp} but got #{act}', 'expected response to not have status reason #{act}', reason, actual);
        a.assert(r.code === code, 'expected response to have status code #{exp} but got #{act}', 'expected response to not have status code #{act}', code, r.code);
    }
    function responseOk() { assertReasonAndCode(this, 'OK', 200); }
    [['accepted', 202, 'Accepted'], ['withoutContent', 204, 'No Content'], ['badRequest', 400, 'Bad Request'],
        ['unauthorised', 401, 'Unauthorised'], ['unauthorized', 401, 'Unauthorized'], ['forbidden', 403, 'Forbidden'],
        ['notFound', 404, 'Not Found'], ['notAcceptable', 406, 'Acceptable'], ['rateLimited', 429, 'Too Many Requests']]
        .forEach(function (spec) {
            property(spec[0], function () { requireResponse(this); assertReasonAndCode(this, spec[2].toUpperCase(), spec[1]); });
        });
    method(['status', 'statusCode'], function (codeOrReason) {
        var r = requireResponse(this);
        if (typeof codeOrReason === 'number' || this._statusCodeOnly) {
            var want = Number(codeOrReason);
            this.assert(r.code === want, 'expected response to have status code #{exp} but got #{act}', 'expected response to not have status code #{act}', want, r.code);
        } else {
            this.assert(r.reason() === codeOrReason, 'expected response to have status reason #{exp} but got #{act}',
                'expected response to not have status reason #{act}', codeOrReason, r.reason());
        }
    });
    // statusCode() always compares numbers ('202' means 202), unlike status('Accepted').
    Assertion.prototype.statusCode = function (code) {
        this._statusCodeOnly = true;
        return Assertion.prototype.status.call(this, Number(code));
    };
    method('statusReason', function (reason) {
        var r = requireResponse(this);
        this.assert(r.reason() === String(reason), 'expected response to have status reason #{exp} but got #{act}',
            'expected response to not have status reason #{act}', String(reason), r.reason());
    });
    method('statusCodeClass', function (digit) {
        var r = requireResponse(this), cls = Math.floor(r.code / 100);
        this.assert(cls === digit, 'expected response code to be #{exp}XX but found #{act}', 'expected response code to not be #{exp}XX', digit, r.code);
    });
    method('header', function (key, value) {
        var r = this._obj, kind = root.__o365isResponse && root.__o365isResponse(r) ? 'response' : 'request';
        if (!r || !r.headers || typeof r.headers.has !== 'function') {
            throw new AssertionError('expecting a postman request or response object but got ' + display(r));
        }
        var has = r.headers.has(key);
        this.assert(has, 'expected ' + kind + " to have header with key '" + key + "'",
            'expected ' + kind + " to not have header with key '" + key + "'", true, has);
        if (arguments.length > 1) {
            var actual = r.headers.get(key);
            this.assert(actual === value, "expected '" + key + "' " + kind + ' header to be #{exp} but got #{act}',
                "expected '" + key + "' " + kind + ' header to not be #{act}', value, actual);
        }
    });
    property('withBody', function () {
        var text = requireResponse(this).text();
        this.assert(typeof text === 'string' && text.length > 0, 'expected response to have content in body', 'expected response to not have content in body');
    });
    function parseError(r) {
        try { r.json(); return null; } catch (e) { return e.name === 'JSONError' ? e.message : e.name + ': ' + e.message; }
    }
    property('json', function () {
        var err = parseError(requireResponse(this));
        this.assert(!err, 'expected response body to be a valid json but got error ' + err, 'expected response body not to be a valid json');
    });
    method('body', function (content) {
        var r = requireResponse(this), body;
        if (typeOf(content) === 'object') {
            try { body = r.json(); } catch (e) { body = undefined; }
            this.assert(deepEqual(body, content), 'expected response body json to equal #{exp} but got #{act}',
                'expected response body json to not equal #{exp} but got #{act}', content, body);
            return;
        }
        body = r.text();
        if (arguments.length === 0) {
            this.assert(typeof body === 'string' && body.length > 0, 'expected response to have content in body', 'expected response to not have content in body');
        } else if (content instanceof RegExp) {
            this.assert(content.exec(body) !== null, 'expected response body text to match #{exp} but got #{act}',
                'expected response body text #{act} to not match #{exp}', content, body);
        } else {
            this.assert(deepEqual(body, content), 'expected response body to equal #{exp} but got #{act}', 'expected response body to not equal #{exp}', content, body);
        }
    });
    method('jsonBody', function (path, value) {
        var r = requireResponse(this), err = parseError(r);
        if (arguments.length === 0) {
            this.assert(!err, 'expected response body to be a valid json but got error ' + err, 'expected response body not to be a valid json');
            return;
        }
        var json = err ? undefined : r.json(), found = pathGet(json, path);
        this.assert(found.has, 'expected #{act} in response to contain property #{exp}', 'expected #{act} in response to not contain property #{exp}', path, json);
        if (arguments.length > 1) {
            this.assert(deepEqual(found.value, value), 'expected response body json at "' + path + '" to contain #{exp} but got #{act}',
                'expected response body json at "' + path + '" to not contain #{exp} but got #{act}', value, found.value);
        }
    });
    chainable('responseTime', function (value) {
        var t = this._obj;
        this.assert(typeof t === 'number' && (arguments.length === 0 || t === value),
            'expected response to have a valid response time but got #{act}', 'expected response to not have a valid response time but got #{act}', null, t);
    }, function () {
        requireResponse(this);
        this._obj = this._obj.responseTime; this._flags.responseTimeChain = true;
    });

    function expect(value, message) { return new Assertion(value, message); }
    expect.fail = function (actual, expected, message) {
        if (arguments.length < 2) { message = actual; }
        throw new AssertionError(message || 'expect.fail()');
    };

    root.__o365expect = { expect: expect, Assertion: Assertion, AssertionError: AssertionError, inspect: inspect, display: display, deepEqual: deepEqual };
})(globalThis);
