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
    // One licence file for everything shipped: every package in any bundle, with its licence text.
    const seen = new Map();
    results.forEach(function (r) { r.packages.forEach(function (p) { seen.set(p.package, p.files); }); });
    const text = Array.from(seen.keys()).sort().map(function (id) {
        const files = seen.get(id);
        return '==== ' + id + ' ====\n' + (files.length ? files.join('\n\n') : '(no licence file in the package; see its package.json "license")') + '\n';
    }).join('\n');
    fs.writeFileSync(path.join(out, 'THIRD-PARTY-LICENSES.txt'), text);
}()).catch(function (err) { console.error(err && err.stack || err); process.exit(1); });
