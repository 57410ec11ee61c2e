// Bundles each library of the Postman sandbox (postman-sandbox 4.7.1 lib/environment.js) into one
// browser-style file that QuickJS can evaluate, with browserify (the bundler postman-sandbox uses).
// Run by tools/fetch_script_libraries.py inside its npm work directory:
//     node bundle.js OUTPUT_DIR
// Each OUTPUT_DIR/<file>.js is a single expression evaluating to the module's exports; nothing is
// left on the global object. OUTPUT_DIR/<file>.licenses.json lists the packages in that bundle.
'use strict';

const fs = require('fs');
const path = require('path');
const browserify = require('browserify');
const builtins = require('browserify/lib/builtins');
const { minify } = require('terser');

const out = path.resolve(process.argv[2]);
// minified as an assignment so the minifier keeps the value; the file holds only the expression
const ASSIGN = '__o365bundle=';
const here = process.cwd();

// require() name -> the file postman-sandbox resolves it to (its lib/environment.js "resolve").
const NODE_BUILTINS = ['events', 'fs', 'os', 'path', 'punycode', 'querystring', 'stream', 'string_decoder',
    'timers', 'url', 'util'];
const LIBRARIES = {
    ajv: 'ajv',
    assert: 'assert/build/assert.js',
    atob: 'atob',
    backbone: 'backbone',
    btoa: 'btoa',
    buffer: 'buffer/index.js',
    chai: 'chai',
    cheerio: 'cheerio',
    'crypto-js': 'crypto-js',
    'csv-parse/lib/sync': 'csv-parse/lib/sync',
    lodash: 'lodash',
    moment: 'moment/min/moment.min',
    'postman-collection': 'postman-collection',
    tv4: 'tv4',
    uuid: 'postman-sandbox/lib/vendor/uuid.js',
    xml2js: 'xml2js',
    // Only behind the legacy globals: `_` is lodash 3 there, xml2Json is the sandbox's own wrapper,
    // and Sugar extends the built-in prototypes (`responseBody.has()`).
    '@legacy/lodash3': 'lodash3',
    '@legacy/xml2Json': 'postman-sandbox/lib/sandbox/xml2Json.js',
    '@legacy/sugar': 'postman-sandbox/lib/vendor/sugar.js'
};
// backbone's optional `require('jquery')` sits in a try block; postman-sandbox does not bundle it either.
const IGNORED = ['jquery', 'aws4', 'hawk', 'node-oauth1'];

function fileName(name) {
    return name.replace(/^@/, '').replace(/[^A-Za-z0-9_.-]+/g, '__');
}

function bundleOne(name, target) {
    return new Promise(function (resolve, reject) {
        const entry = NODE_BUILTINS.includes(name) ? builtins[name] : require.resolve(target, { paths: [here] });
        const b = browserify({ basedir: here });
        const packages = new Map();
        b.on('package', function (pkg) {
            if (pkg && pkg.name && pkg.__dirname) { packages.set(pkg.name + '@' + pkg.version, pkg.__dirname); }
        });
        IGNORED.forEach(function (m) { b.ignore(m); });
        b.require(entry, { expose: name });
        b.bundle(async function (err, buffer) {
            if (err) { return reject(err); }
            // browserify's prelude assigns `require`; the local var keeps it off the global object.
            const code = '(function (global, window, self) { var require;\n' + buffer.toString('utf8') +
                '\n;return require(' + JSON.stringify(name) + ');\n})(globalThis)';
            // Minified as postman-sandbox minifies its bundle: QuickJS parses it ~2.5x faster. Names kept,
            // since libraries and users read constructor names (chai's messages, error names).
            let minified;
            try {
                minified = await minify(ASSIGN + code, { compress: true, mangle: true, keep_fnames: true, keep_classnames: true,
                    format: { comments: false } });
            }
            catch (e) { return reject(e); }
            if (!minified.code.startsWith(ASSIGN)) { return reject(new Error(name + ': unexpected minifier output')); }
            fs.writeFileSync(path.join(out, fileName(name) + '.js'), minified.code.slice(ASSIGN.length).replace(/;?\s*$/, ''));
            const licences = [];
            for (const [id, dir] of packages) {
                const files = fs.readdirSync(dir).filter(function (f) { return /^(licen[sc]e|copying|notice)/i.test(f); });
                licences.push({ package: id, files: files.map(function (f) { return fs.readFileSync(path.join(dir, f), 'utf8'); }) });
            }
            resolve({ name: name, file: fileName(name) + '.js', packages: licences });
        });
    });
}

function sugarMethods(code) {
    const vm = require('vm');
    const context = vm.createContext({});
    const CLASSES = ['Object', 'Array', 'String', 'Number', 'Date', 'RegExp', 'Function'];
    const snapshot = function () {
        return vm.runInContext('(' + function (classes) {
            var out = {};
            classes.forEach(function (c) {
                out[c] = Object.getOwnPropertyNames(globalThis[c]);
                out[c + '.prototype'] = Object.getOwnPropertyNames(globalThis[c].prototype);
            });
            return JSON.stringify(out);
        }.toString() + ')(' + JSON.stringify(CLASSES) + ')', context);
    };
    const before = JSON.parse(snapshot());
    vm.runInContext('globalThis.__sugar = ' + code, context);
    const after = JSON.parse(snapshot());
    const added = { prototype: new Set(), static: {} };
    Object.keys(after).forEach(function (k) {
        const fresh = after[k].filter(function (n) { return before[k].indexOf(n) === -1; });
        if (k.endsWith('.prototype')) { fresh.forEach(function (n) { added.prototype.add(n); }); }
        else if (fresh.length) { added.static[k] = fresh.sort(); }
    });
    // Names other APIs scripts call all the time (lodash, moment, Math, console, pm.*) are not a
    // sign of Sugar; the rest are (`responseBody.has()` is matched by scripts.py on its own).
    vm.runInContext('globalThis.__lodash = ' + fs.readFileSync(path.join(out, 'lodash.js'), 'utf8'), context);
    vm.runInContext('globalThis.__moment = ' + fs.readFileSync(path.join(out, 'moment.js'), 'utf8'), context);
    const common = new Set(JSON.parse(vm.runInContext(
        'JSON.stringify(Object.keys(__lodash).concat(Object.getOwnPropertyNames(__moment.prototype), ' +
        'Object.getOwnPropertyNames(__moment), Object.getOwnPropertyNames(Math)))', context)).concat(PM_METHODS));
    return {
        prototype: Array.from(added.prototype).sort(),
        distinctive: Array.from(added.prototype).filter(function (n) { return !common.has(n); }).sort(),
        static: added.static
    };
}
// methods of pm.*, console and chai that share a name with a Sugar method
const PM_METHODS = ['add', 'all', 'clear', 'count', 'each', 'from', 'get', 'has', 'is', 'log', 'one', 'remove',
    'reset', 'set', 'to', 'unset', 'upsert', 'format', 'clone', 'find', 'findAll', 'insert', 'reverse', 'shift',
    'include', 'equal', 'above', 'below', 'least', 'most', 'any', 'none', 'length', 'empty'];

(async function main() {
    fs.mkdirSync(out, { recursive: true });
    const names = NODE_BUILTINS.concat(Object.keys(LIBRARIES));
    const results = [];
    for (const name of names) {
        results.push(await bundleOne(name, LIBRARIES[name] || name));
    }
    fs.writeFileSync(path.join(out, 'bundles.json'), JSON.stringify(results.map(function (r) {
        return { name: r.name, file: r.file, packages: r.packages.map(function (p) { return p.package; }).sort() };
    }), null, 1));
    // What Sugar adds to the built-ins, so scripts.py loads it only for a script that calls one.
    fs.writeFileSync(path.join(out, 'sugar-methods.json'), JSON.stringify(sugarMethods(
        fs.readFileSync(path.join(out, fileName('@legacy/sugar') + '.js'), 'utf8'))));
    // One licence file for everything shipped: every package in any bundle, with its licence text.
    const seen = new Map();
    results.forEach(function (r) { r.packages.forEach(function (p) { seen.set(p.package, p.files); }); });
    const text = Array.from(seen.keys()).sort().map(function (id) {
        const files = seen.get(id);
        return '==== ' + id + ' ====\n' + (files.length ? files.join('\n\n') : '(no licence file in the package; see its package.json "license")') + '\n';
    }).join('\n');
    fs.writeFileSync(path.join(out, 'THIRD-PARTY-LICENSES.txt'), text);
}()).catch(function (err) { console.error(err && err.stack || err); process.exit(1); });
