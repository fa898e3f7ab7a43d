import { existsSync } from 'node:fs';
import Module from 'node:module';

/**
 * tslab compiles the .ts files a cell imports in memory and runs each as `<name>.js` (a file that does
 * not exist), with no source map: stack traces then point at lines of that invisible JavaScript. The
 * kernel (scripts/setup.sh's kernel.json) preloads tsx and calls this: a module that tslab is about to run
 * from such a missing `.js` is run from its `.ts` file through tsx instead, which compiles it with a
 * source map, so errors name `lib/.../x.ts:line:column`. tslab still type-checks every cell and import;
 * only the JavaScript that runs comes from tsx (the same compiler the tests and the CLI use).
 */
export function runMissingJsFromTsSources(): void {
  type Compile = (this: Module, content: string, filename: string) => unknown;
  const proto = Module.prototype as unknown as { _compile: Compile & { iwaeTsSources?: true } };
  if (proto._compile.iwaeTsSources) return;
  const extensions = (Module as unknown as { _extensions: Record<string, (module: Module, filename: string) => void> })._extensions;
  const original = proto._compile;
  const compile: Compile & { iwaeTsSources?: true } = function (this: Module, content: string, filename: string) {
    const source = filename.endsWith('.js') ? `${filename.slice(0, -3)}.ts` : undefined;
    const tsLoader = extensions['.ts'];
    if (source && tsLoader && !existsSync(filename) && existsSync(source)) {
      // tsx's loader reads the .ts, compiles it and comes back here with the .ts name (passed through below).
      this.filename = source;
      tsLoader(this, source);
      return undefined;
    }
    return original.call(this, content, filename);
  };
  compile.iwaeTsSources = true;
  proto._compile = compile;
}
